"""``entra_client_id``: the Redis cache and store sign in with a Microsoft Entra token.

Real parts: a TLS redis-server whose ACL user is named like a managed identity's
object id and whose password is the token (as Azure Cache for Redis maps an Entra
token to an access policy assignment), and the App Service managed identity endpoint
(tests/standins/managed_identity.py) that azure-identity's ``ManagedIdentityCredential``
asks, as on Azure Functions.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

pytest.importorskip("redis")
pytest.importorskip("azure.identity")

import statekit
from statekit.clients.redis_entra import EntraToken, _all_providers
from tests.standins.base import StandInUnavailable
from tests.standins.managed_identity import ManagedIdentityEndpoint
from tests.standins.redis_tls import TLSRedis, make_certificates

OBJECT_ID = str(uuid.uuid4())  # the identity's principal id: Azure Redis's user name
CLIENT_ID = str(uuid.uuid4())
ADMIN_PASSWORD = "admin-for-tests"
CA_VARIABLE = "STATEKIT_TEST_ENTRA_CA"
T = TypeVar("T")


def start(server: TLSRedis) -> TLSRedis:
    try:
        server.start()
    except StandInUnavailable as exc:
        pytest.skip(f"this redis-server has no TLS: {exc}")
    return server


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_certificates(tmp_path_factory.mktemp("entra-certs"))


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, certificates: dict[str, Path]
) -> Iterator[TLSRedis]:
    folder = tmp_path_factory.mktemp("redis-entra")
    found = start(TLSRedis(folder, certificates, requirepass=ADMIN_PASSWORD))
    yield found
    found.stop()


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, certificates: dict[str, Path]
) -> Iterator[TLSRedis]:
    folder = tmp_path_factory.mktemp("redis-entra-cluster")
    found = start(TLSRedis(folder, certificates, cluster=True, requirepass=ADMIN_PASSWORD))
    yield found
    found.stop()


@pytest.fixture(scope="module")
def identity() -> Iterator[ManagedIdentityEndpoint]:
    endpoint = ManagedIdentityEndpoint({CLIENT_ID})
    endpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(autouse=True)
def on_azure_functions(
    identity: ManagedIdentityEndpoint,
    certificates: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The variables the Functions host sets, and the test CA as Memorystore-style ca_env."""
    for name, value in identity.client_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(CA_VARIABLE, certificates["ca.crt"].read_text())


def entra_url(server: TLSRedis, prefix: str, *, client_id: str = CLIENT_ID) -> str:
    """A fresh prefix per client: ``open_cache`` keeps one client (and token) per URL."""
    cluster = "&cluster=true" if server.cluster else ""
    return (
        f"rediss://{OBJECT_ID}@127.0.0.1:{server.port}/0?entra_client_id={client_id}"
        f"&ca_env={CA_VARIABLE}&prefix={prefix}-{uuid.uuid4().hex[:8]}:{cluster}"
    )


def accept(server: TLSRedis, token: str, *, only: bool = False) -> None:
    """The ACL user of the identity takes ``token`` as its password (``only``: no other)."""
    admin = server.admin()
    reset = ["resetpass"] if only else []
    admin.execute_command("ACL", "SETUSER", OBJECT_ID, "on", *reset, f">{token}", "~*", "&*",
                          "+@all")  # fmt: skip
    admin.close()


def accept_next(server: TLSRedis, identity: ManagedIdentityEndpoint, count: int) -> None:
    """Redis takes the next ``count`` tokens the endpoint will issue (clients connect lazily,
    so each client opened next fetches one of them)."""
    for index in range(count):
        accept(server, identity.upcoming(index))


def expire_connections(server: TLSRedis, *new_tokens: str) -> None:
    """What Azure does when the tokens expire: only the new ones are valid, connections close."""
    accept(server, new_tokens[0], only=True)
    for token in new_tokens[1:]:
        accept(server, token)
    admin = server.admin()
    admin.execute_command("CLIENT", "KILL", "USER", OBJECT_ID)
    admin.close()


def opened(opener: Callable[[str], T], url: str) -> tuple[T, EntraToken]:
    """A cache or store and the credential provider it made (one per client)."""
    before = set(_all_providers)
    client = opener(url)
    (provider,) = set(_all_providers) - before
    return client, provider


def use(cache: Any, store: statekit.Store, times: int) -> None:
    for i in range(times):
        cache.set("k", i)
        assert cache.get("k") == i
        store.put("p/k", {"i": i})
        assert store.get("p/k").value == {"i": i}  # type: ignore[union-attr]


def test_cache_and_store_sign_in_with_one_token_each(
    server: TLSRedis, identity: ManagedIdentityEndpoint
) -> None:
    before = len(identity.issued)
    accept_next(server, identity, 2)
    cache, cache_token = opened(statekit.open_cache, entra_url(server, "c"))
    store, store_token = opened(statekit.open_store, entra_url(server, "s"))
    use(cache, store, 1)
    assert len(identity.issued) == before + 2  # one per client
    use(cache, store, 50)
    assert len(identity.issued) == before + 2  # not per command
    admin = server.admin()
    admin.execute_command("CLIENT", "KILL", "USER", OBJECT_ID)  # a network blip
    admin.close()
    use(cache, store, 2)
    assert len(identity.issued) == before + 2
    # Nor asked of azure-identity at each connect: statekit keeps the token itself.
    assert (cache_token.fetches, store_token.fetches) == (1, 1)
    request = identity.requests[-1]
    assert request["resource"] == "https://redis.azure.com"  # the scope without /.default
    assert request["client_id"] == CLIENT_ID
    assert request["api-version"] == "2019-08-01"
    users = {line["user"] for line in server.admin().client_list()}
    assert OBJECT_ID in users
    cache.close()
    store.close()


def test_cluster_true_signs_in_to_every_node_connection(
    cluster: TLSRedis, identity: ManagedIdentityEndpoint
) -> None:
    before = len(identity.issued)
    accept_next(cluster, identity, 2)
    cache = statekit.open_cache(entra_url(cluster, "cc"))
    store = statekit.open_store(entra_url(cluster, "cs"))
    use(cache, store, 20)
    cache.set_many({"a": 1, "b": 2})
    assert cache.get_many(["a", "b"]) == {"a": 1, "b": 2}
    assert len(identity.issued) == before + 2
    cache.close()
    store.close()


def test_a_token_near_expiry_is_replaced_at_the_next_connect(
    server: TLSRedis, identity: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rotation as Azure does it: each token lives 303 s, so it is stale (by statekit's and
    MSAL's 5-minute margin) 3 s after it was issued; then Azure takes only the new token
    and closes the connections: the next call reconnects with the new one."""
    monkeypatch.setattr(identity, "lifetime_seconds", 303)
    before = len(identity.issued)
    accept_next(server, identity, 2)
    cache = statekit.open_cache(entra_url(server, "rc"))
    store = statekit.open_store(entra_url(server, "rs"))
    issued_at = time.time()
    use(cache, store, 10)
    assert len(identity.issued) == before + 2
    for rotation in (1, 2):
        time.sleep(max(0.0, issued_at + 4.5 - time.time()))  # past 303 - 300 s, rounding too
        new_tokens = (identity.upcoming(0), identity.upcoming(1))  # one per client
        expire_connections(server, *new_tokens)
        issued_at = time.time()
        use(cache, store, 10)
        assert len(identity.issued) == before + 2 + 2 * rotation, "one fetch per client"
        assert identity.issued[-2:] == list(new_tokens)
    cache.close()
    store.close()


def test_an_auth_failure_makes_the_cache_fetch_past_every_token_cache(
    server: TLSRedis, identity: ManagedIdentityEndpoint
) -> None:
    """A token Azure stops taking before its expiry (revoked): the cache forgets it and
    azure-identity's copy, fetches once, and the call succeeds."""
    accept_next(server, identity, 1)
    cache = statekit.open_cache(entra_url(server, "ac"))
    cache.set("k", "before")
    before = len(identity.issued)
    expire_connections(server, identity.upcoming())
    assert cache.get("k") == "before"
    assert len(identity.issued) == before + 1
    for _ in range(20):
        assert cache.get("k") == "before"
    assert len(identity.issued) == before + 1
    cache.close()


def test_a_failed_token_fetch_is_unavailable_naming_the_identity(
    server: TLSRedis, identity: ManagedIdentityEndpoint
) -> None:
    unknown = str(uuid.uuid4())
    cache = statekit.open_cache(entra_url(server, "fc", client_id=unknown))
    with pytest.raises(statekit.BackendUnavailable) as raised:
        cache.get("k")
    message = str(raised.value)
    assert unknown in message and OBJECT_ID in message
    assert "Unable to load the proper Managed Identity" in message  # what the endpoint said
    assert raised.value.outcome_unknown is False  # no token, so no connection, nothing sent
    cache.close()
    store = statekit.open_store(entra_url(server, "fs", client_id=unknown))
    with pytest.raises(statekit.BackendUnavailable, match=unknown):
        store.get("p/k")
    store.close()


def test_the_token_is_never_in_errors_reprs_or_logs(
    server: TLSRedis, identity: ManagedIdentityEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: azure-identity, azure-core, msal, redis
    accept_next(server, identity, 2)
    cache, cache_token = opened(statekit.open_cache, entra_url(server, "lc"))
    store, store_token = opened(statekit.open_store, entra_url(server, "ls"))
    use(cache, store, 2)
    # Then Azure refuses every token: the errors carry the server's words, not the token.
    expire_connections(server, "a-token-nobody-has")
    with pytest.raises(statekit.BackendUnavailable) as cache_error:
        cache.get("k")
    with pytest.raises(statekit.StatekitError) as store_error:
        store.get("p/k")
    providers = [cache_token, store_token]
    assert all(OBJECT_ID in repr(p) for p in providers)
    texts = [
        str(cache_error.value),
        repr(cache_error.value),
        str(store_error.value),
        repr(cache),
        repr(store),
        *map(repr, providers),
        caplog.text,
    ]
    assert identity.issued
    assert "ManagedIdentityCredential" in caplog.text  # azure-identity's own logs were seen
    for token in identity.issued:
        for text in texts:
            assert token not in text
    cache.close()
    store.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            f"rediss://{OBJECT_ID}@h:6380/0?entra_client_id={CLIENT_ID}&password_env=PW",
            "drop password_env/password_secret",
        ),
        (
            f"rediss://{OBJECT_ID}@h:6380/0?entra_client_id={CLIENT_ID}"
            "&password_secret=arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
            "drop password_env/password_secret",
        ),
        (f"rediss://h:6380/0?entra_client_id={CLIENT_ID}", "object \\(principal\\) id"),
        (f"rediss://default@h:6380/0?entra_client_id={CLIENT_ID}", "got user 'default'"),
        (f"rediss://{OBJECT_ID}@h:6380/0?entra_client_id=my-app", "client id \\(a GUID\\)"),
        (f"rediss://{OBJECT_ID}@h:6380/0?entra_client_id=", "client id \\(a GUID\\)"),
        (f"redis://{OBJECT_ID}@h:6379/0?entra_client_id={CLIENT_ID}", "needs TLS"),
    ],
)
@pytest.mark.parametrize("opener", [statekit.open_cache, statekit.open_store])
def test_bad_urls_are_refused_with_the_reason(url: str, reason: str, opener: Any) -> None:
    with pytest.raises(statekit.InvalidURL, match=reason):
        opener(url)

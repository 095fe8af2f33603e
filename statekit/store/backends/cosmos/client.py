"""Connecting to Cosmos DB from a ``cosmos://`` URL: endpoint, credential, client options."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError
from azure.cosmos import ContainerProxy, CosmosClient

from statekit.errors import BackendUnavailable
from statekit.urls import ConnectionURL

KEY_VARIABLE = "STATEKIT_COSMOS_KEY"
# Microsoft's published key of the local Cosmos DB emulators (not a secret: it is
# the same on every emulator and works nowhere else). Used only for loopback endpoints.
EMULATOR_WELL_KNOWN_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Short timeouts and few retries, so a stopped server is reported in seconds and a
# hung one within ~10 s for a read (one retry) and ~5 s for a write (writes are not
# retried after a lost response); throttling (429) keeps the SDK's own generous policy.
CLIENT_OPTIONS: dict[str, Any] = {
    "connection_timeout": 3,
    "read_timeout": 5,
    "retry_total": 2,
    "retry_connect": 2,
    "retry_read": 1,
    "retry_backoff_factor": 0.2,
    "retry_backoff_max": 2,
    "retry_throttle_total": 9,
    "retry_throttle_backoff_max": 30,
}


def connect(url: ConnectionURL, backend: str) -> tuple[ContainerProxy, CosmosClient]:
    """The container ``cosmos://ACCOUNT_HOST/DATABASE/CONTAINER[?endpoint=URL]`` names,
    and its client; a bad URL is an error naming the part that is wrong."""
    url.require_known_params(("endpoint",))
    parts = url.path_parts()
    if not url.host or len(parts) != 2:
        raise url.error(
            "expected cosmos://ACCOUNT_HOST/DATABASE/CONTAINER "
            "(e.g. cosmos://myaccount.documents.azure.com/app/state)"
        )
    endpoint = url.param("endpoint") or f"https://{url.host}:443/"
    split = urlsplit(endpoint)
    if split.scheme not in ("http", "https") or not split.hostname:
        raise url.error(f"endpoint must be an http(s) URL, got {endpoint!r}")
    if "@" in split.netloc or split.query:
        raise url.error("endpoint must not carry credentials or a query string")
    options = dict(CLIENT_OPTIONS)
    credential: Any
    if split.hostname in LOOPBACK_HOSTS:
        # A local emulator: an account key (never a real account's) and no endpoint
        # discovery, which would follow the emulator's advertised https address.
        credential = os.environ.get(KEY_VARIABLE) or EMULATOR_WELL_KNOWN_KEY
        options["enable_endpoint_discovery"] = False
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    database, container = parts
    try:
        client = CosmosClient(endpoint, credential=credential, **options)
    except AzureError as exc:
        raise BackendUnavailable(backend, f"connect to {endpoint}", exc) from None
    proxy = client.get_database_client(database).get_container_client(container)
    return proxy, client

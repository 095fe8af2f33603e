"""No secret in a URL error, and no credentials accepted in any URL form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import statekit
from statekit.errors import InvalidURL, redact_url

SECRET = "S3cr3tPW"

OPENERS: dict[str, Callable[[str], Any]] = {
    "store": statekit.open_store,
    "cache": statekit.open_cache,
    "queue": statekit.open_queue,
    "workflows": statekit.open_workflows,
}

CREDENTIAL_URLS = [
    ("store", f"redis://user:{SECRET}@127.0.0.1:6379/0"),
    ("store", f"rediss://:{SECRET}@127.0.0.1:6379/0"),
    ("cache", f"redis://user:{SECRET}@127.0.0.1:6379/0"),
    ("store", f"firestore://user:{SECRET}@my-project"),
    ("store", f"sqlite://user:{SECRET}@/tmp/x.db"),
    ("store", f"memory://user:{SECRET}@space"),
    ("store", f"dynamodb://user:{SECRET}@table?region=us-east-1"),
    ("store", f"cosmos://user:{SECRET}@acct/db/c"),
    ("queue", f"sqs://user:{SECRET}@queue?region=us-east-1"),
    ("queue", f"pubsub://user:{SECRET}@project/topic/sub"),
    ("queue", f"sqlite://user:{SECRET}@/tmp/q.db"),
    ("queue", f"azurequeue://user:{SECRET}@acct/q"),
    ("workflows", f"durable://user:{SECRET}@host/x"),
    ("workflows", f"workflows://u:{SECRET}@project/region/workflow"),
    ("workflows", f"stepfunctions://user:{SECRET}@machine"),
    ("store", "sqlite://user@/tmp/x.db"),  # a user name alone is refused too
]


@pytest.mark.parametrize(("kind", "url"), CREDENTIAL_URLS, ids=lambda v: str(v)[:40])
def test_credentials_in_any_url_are_refused_without_repeating_them(kind: str, url: str) -> None:
    with pytest.raises(InvalidURL) as caught:
        OPENERS[kind](url)
    error = caught.value
    assert "credentials" in str(error) or "password" in str(error)
    for shown in (str(error), repr(error), error.url, error.rule, repr(error.args)):
        assert SECRET not in shown


@pytest.mark.parametrize(
    "param", ["password", "key", "sig", "token", "access_key", "AccountKey", "client_secret", "sas"]
)
@pytest.mark.parametrize(
    "base", ["redis://127.0.0.1:6379/0", "sqlite:///tmp/x.db", "sqs://q", "firestore://p"]
)
def test_secret_parameters_are_redacted_on_every_scheme(base: str, param: str) -> None:
    url = f"{base}{'&' if '?' in base else '?'}{param}={SECRET}"
    kind = "queue" if base.startswith("sqs") else "store"
    with pytest.raises(statekit.StatekitError) as caught:
        OPENERS[kind](url)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)


def test_redaction_keeps_what_helps_and_hides_the_secret() -> None:
    assert redact_url(f"redis://app:{SECRET}@cache:6379/0?password_env=PW") == (
        "redis://app:***@cache:6379/0?password_env=PW"
    )
    assert redact_url(f"cosmos://a/db/c?endpoint=http://u:{SECRET}@h:1/&sig={SECRET}") == (
        "cosmos://a/db/c?endpoint=http://u:***@h:1/&sig=***"
    )
    assert redact_url(f"x://h:notaport:{SECRET}@y") == "x://h:***@y"
    assert redact_url("redis://cache:6379/0") == "redis://cache:6379/0"


def test_a_malformed_url_with_a_password_does_not_leak_it() -> None:
    with pytest.raises(InvalidURL) as caught:
        statekit.open_store(f"redis://user:{SECRET}@127.0.0.1:notaport/0")
    assert SECRET not in str(caught.value)


def test_missing_google_credentials_are_a_statekit_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("google.auth", reason="the gcp extra is not installed")
    for variable in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", "/nonexistent-statekit-test")
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:1")
    with pytest.raises(statekit.StatekitError, match="DefaultCredentialsError"):
        statekit.open_workflows("workflows://proj/us-central1/wf?store=memory://")

"""Microsoft Entra sign-in for Azure Cache for Redis: ``entra_client_id=CLIENT_ID``.

URL: ``rediss://OBJECT_ID@HOST:6380/0?entra_client_id=CLIENT_ID``: the user name is
the object (principal) id of a user-assigned managed identity (Azure Cache for Redis
takes it as the user), ``entra_client_id`` that identity's client id. The password is
a Microsoft Entra token for ``https://redis.azure.com/.default`` from azure-identity's
``ManagedIdentityCredential`` (imported at the first connect, never at import).

* ``EntraToken`` is the redis-py credential provider: asked at every (re)connect, it
  keeps its token until ``REFRESH_MARGIN_SECONDS`` before expiry (or azure-identity's
  ``refresh_on``, whichever is first), so commands never fetch tokens and a rotation
  costs one fetch. A connection opened with a token is closed by Azure when that token
  expires; the cache's and store's retry reconnects it, with the fresh token.
* A failed fetch is ``EntraTokenUnavailable``, a redis ``ConnectionError`` (so redis-py
  closes the half-open socket and the backends' retries and ``BackendUnavailable``
  apply) naming the identity, never a token.
* Why not ``redis-entraid``: it adds PyJWT and pins of msal and requests to every
  function package, and refreshes in a background thread that a frozen serverless
  instance never runs; at connect time is when a token is needed, and azure-identity
  (already in the ``azure`` extra) does the rest.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
import time
import weakref
from typing import Any

import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from statekit.urls import ConnectionURL

SCOPE = "https://redis.azure.com/.default"
# MSAL's own margin is 5 minutes: with the same one, both caches agree on when a token is
# stale (a larger one would ask azure-identity at every connect and get the old token).
# Azure asks for a new token at least 3 minutes before expiry.
REFRESH_MARGIN_SECONDS = 300.0
# After an authentication failure (a revoked token), a new credential (and so a fetch
# past azure-identity's cache) at most this often.
FORGET_INTERVAL_SECONDS = 30.0
# The identity endpoint is on the worker: seconds, not azure-core's 300 s timeouts.
CREDENTIAL_OPTIONS: dict[str, Any] = {
    "connection_timeout": 2,
    "read_timeout": 5,
    "retry_total": 2,
    "retry_backoff_factor": 0.2,
}
_GUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
FORM = "rediss://OBJECT_ID@HOST:6380/0?entra_client_id=CLIENT_ID"


class EntraTokenUnavailable(RedisConnectionError):
    """No token from the managed identity: the message names it and what azure-identity said."""


def entra_client_id(url: ConnectionURL) -> str | None:
    """``entra_client_id``, checked with what it needs from the rest of the URL; or ``None``."""
    client_id = url.param("entra_client_id")
    if client_id is None:
        return None
    if not _GUID.fullmatch(client_id):
        raise url.error(
            f"entra_client_id must be the client id (a GUID) of a user-assigned managed "
            f"identity, got {client_id!r} ({FORM})"
        )
    if url.param("password_env") is not None or url.param("password_secret") is not None:
        raise url.error(
            "entra_client_id signs in with a Microsoft Entra token: "
            "drop password_env/password_secret"
        )
    if not url.username or not _GUID.fullmatch(url.username):
        raise url.error(
            f"entra_client_id needs the user name to be the managed identity's object "
            f"(principal) id, a GUID, as Azure Cache for Redis takes it: {FORM}"
            + (f", got user {url.username!r}" if url.username else "")
        )
    if url.scheme != "rediss":
        raise url.error("entra_client_id needs TLS (rediss://): the token is a credential")
    try:
        installed = importlib.util.find_spec("azure.identity") is not None
    except ModuleNotFoundError:
        installed = False
    if not installed:
        raise url.error("entra_client_id needs azure-identity: pip install 'statekit[azure]'")
    return client_id


class EntraToken(redis.CredentialProvider):
    """(object id, token) at each connect; the token fetched once per lifetime."""

    def __init__(self, object_id: str, client_id: str) -> None:
        self.object_id = object_id
        self.client_id = client_id
        self._lock = threading.Lock()  # one fetch when many lanes connect at once
        self._credential: Any = None
        self._token: str | None = None
        self._fresh_until = 0.0
        self._forgotten_at = float("-inf")
        self.fetches = 0  # tokens asked of azure-identity (it may answer from its cache)
        _all_providers.add(self)

    def __repr__(self) -> str:  # never the token
        return f"EntraToken(object_id={self.object_id!r}, client_id={self.client_id!r})"

    def get_credentials(self) -> tuple[str, str]:
        with self._lock:
            if self._token is None or time.time() >= self._fresh_until:
                self._fetch()
            assert self._token is not None
            return (self.object_id, self._token)

    def _fetch(self) -> None:
        self.fetches += 1
        try:
            if self._credential is None:
                from azure.identity import ManagedIdentityCredential

                self._credential = ManagedIdentityCredential(
                    client_id=self.client_id, **CREDENTIAL_OPTIONS
                )
            info = self._credential.get_token_info(SCOPE)
        except Exception as exc:  # azure-identity's errors are many; the message says which
            raise EntraTokenUnavailable(
                f"no Microsoft Entra token for Azure Cache for Redis from the managed "
                f"identity with client id {self.client_id} (user {self.object_id}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        fresh_until = float(info.expires_on) - REFRESH_MARGIN_SECONDS
        if info.refresh_on:
            fresh_until = min(fresh_until, float(info.refresh_on))
        self._token, self._fresh_until = str(info.token), fresh_until

    def forget(self) -> None:
        """After an authentication failure: the next connect fetches past every cache
        (a new credential has an empty one), at most once per ``FORGET_INTERVAL_SECONDS``."""
        now = time.monotonic()
        with self._lock:
            if now - self._forgotten_at >= FORGET_INTERVAL_SECONDS:
                self._forgotten_at = now
                self._token, self._credential = None, None

    def _after_fork(self) -> None:
        # The parent's HTTP session is not ours, and another thread may have held the lock.
        self._lock = threading.Lock()
        self._credential = None


_all_providers: weakref.WeakSet[EntraToken] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for provider in list(_all_providers):
        provider._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)

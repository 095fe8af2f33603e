"""One client per URL per process, for ``open_store``, ``open_cache`` and ``open_queue``.

A warm serverless invocation reuses the client (and its connection pool) that the
cold start made: each block's ``open_*`` asks ``open_shared`` for the facade over
the URL's backend, made once per URL and per process (a forked child makes its
own: the key holds the process id). ``SharedClient`` is what the three facades
have in common: ``close`` (which also forgets the entry), the context manager, and
the capability gate.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any, Self, TypeVar

from statekit.errors import Unsupported
from statekit.observability.telemetry import generation as telemetry_generation
from statekit.registry import Block, open_backend
from statekit.urls import url_from_env


class SharedClient:
    backend: Any  # each facade declares its block's backend contract

    def _require(self, capability: Enum) -> None:
        """Refuse a call the backend does not declare, instead of silently ignoring it."""
        if capability not in self.backend.capabilities:
            raise Unsupported(self.backend.name, capability.value)

    def close(self) -> None:
        self.backend.close()
        _forget(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


Client = TypeVar("Client", bound=SharedClient)

_open: dict[tuple[str, int, str, str, int], SharedClient] = {}
_open_lock = threading.Lock()


def open_shared(
    block: Block,
    url: str | None,
    variable: str,
    default: str,
    make: Callable[[Any, str], Client],
) -> Client:
    """``make(backend, url)`` for ``url`` (or ``$variable``, or ``default``), once per process."""
    source = "url"
    if url is None:
        url, source = url_from_env(variable, default)
    # An embedded URL (``sqlite://``) means a file under $STATEKIT_HOME: moving the home
    # opens another file, so the home is part of what names the client; so is the
    # telemetry choice, since a client is wrapped (or not) when it is made.
    key = (block, os.getpid(), url, os.environ.get("STATEKIT_HOME", ""), telemetry_generation())
    with _open_lock:
        client = _open.get(key)
        if client is None:
            client = make(open_backend(block, url, source), url)
            _open[key] = client
        return client  # type: ignore[return-value]  # the entry ``make`` made for this block


def _forget(client: SharedClient) -> None:
    with _open_lock:
        for key, open_one in list(_open.items()):
            if open_one is client:
                del _open[key]

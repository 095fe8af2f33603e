"""Stores the idempotency suite runs over, and a Store that counts its round trips."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from statekit import Item, Store
from statekit.backends import backend_class
from statekit.backends.base import StoreBackend
from statekit.backends.memory import MemoryStore
from statekit.errors import InvalidURL
from statekit.store import open_store
from tests.standins.base import StandInPool
from tests.standins.redis import RedisServer


def _redis_store_built() -> bool:
    try:
        backend_class("store", "redis")
    except InvalidURL:
        return False
    return True


STORE_BACKENDS = ["memory", "sqlite", *(["redis"] if _redis_store_built() else [])]


class CountingStore(Store):
    """A real Store over a real backend, counting the calls the decorator makes."""

    def __init__(self, backend: StoreBackend) -> None:
        super().__init__(backend)
        self.calls: dict[str, int] = {"get": 0, "put": 0, "delete": 0}
        self._count_lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._count_lock:
            self.calls[name] += 1

    def reset(self) -> None:
        with self._count_lock:
            self.calls = dict.fromkeys(self.calls, 0)

    def get(self, key: str) -> Item | None:
        self._count("get")
        return super().get(key)

    def put(
        self,
        key: str,
        value: Any,
        *,
        if_match: str | None = None,
        if_absent: bool = False,
        ttl: float | None = None,
    ) -> Item:
        self._count("put")
        return super().put(key, value, if_match=if_match, if_absent=if_absent, ttl=ttl)

    def delete(self, key: str, *, if_match: str | None = None) -> bool:
        self._count("delete")
        return super().delete(key, if_match=if_match)


def store_for(backend: str, standins: StandInPool, workdir: Path) -> CountingStore:
    if backend == "memory":
        return CountingStore(MemoryStore())
    if backend == "sqlite":
        return CountingStore(open_store(f"sqlite://{workdir / 'idempotency.db'}").backend)
    server = standins.get("redis")
    assert isinstance(server, RedisServer)
    prefix = f"idem-{uuid.uuid4().hex[:8]}:"
    return CountingStore(open_store(f"{server.url}?prefix={prefix}").backend)


@pytest.fixture(params=STORE_BACKENDS)
def store(request: pytest.FixtureRequest, standins: StandInPool, tmp_path: Path) -> CountingStore:
    return store_for(request.param, standins, tmp_path)

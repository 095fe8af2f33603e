"""Stores the idempotency suite runs over, and a Store that counts its round trips.

The suite runs over every store backend of the conformance suite
(``tests/conformance/store/cases/``), each on its stand-in, so "works on every
store backend" is measured. Each test gets its own key prefix on the shared
table/container, through ``CountingStore``, which also counts the calls the
decorator makes.
"""

from __future__ import annotations

import importlib.util
import threading
import uuid
from typing import Any

import pytest

from statekit import Item, Store
from statekit.store import open_store
from statekit.store.backend import StoreBackend
from tests.conformance.registry import Case, discover
from tests.standins.base import StandInPool, StandInUnavailable

STORE_CASES = {case.name: case for case in discover("store")}

FIRESTORE_PRECONDITIONS = (
    "@firestore-emulator/server: last_update_time preconditions are ignored, so the late "
    "first call's if_match completion overwrites the record the second call took over"
)
# (backend, test) -> the stand-in's documented deviation; applied as xfail(strict=True).
DEVIATIONS = {
    ("firestore", "test_hung_first_call_is_taken_over_after_its_expiry"): FIRESTORE_PRECONDITIONS,
}


class CountingStore(Store):
    """A real Store over a real backend: counts calls and keeps keys under a prefix."""

    def __init__(self, backend: StoreBackend, key_prefix: str = "") -> None:
        super().__init__(backend)
        self.key_prefix = key_prefix
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
        return super().get(self.key_prefix + key)

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
        return super().put(
            self.key_prefix + key, value, if_match=if_match, if_absent=if_absent, ttl=ttl
        )

    def delete(self, key: str, *, if_match: str | None = None) -> bool:
        self._count("delete")
        return super().delete(self.key_prefix + key, if_match=if_match)


@pytest.fixture(scope="session", params=sorted(STORE_CASES))
def store_url(
    request: pytest.FixtureRequest, standins: StandInPool, tmp_path_factory: pytest.TempPathFactory
) -> str:
    case: Case = STORE_CASES[request.param]
    if case.needs_module and importlib.util.find_spec(case.needs_module) is None:
        pytest.skip(f"{case.name}: optional extra missing ({case.needs_module} not installed)")
    try:
        return case.url(standins, tmp_path_factory.mktemp(f"idempotency-{case.name}"))
    except StandInUnavailable as exc:
        pytest.fail(f"{case.name}: stand-in unavailable: {exc}")


@pytest.fixture
def store(request: pytest.FixtureRequest, store_url: str) -> CountingStore:
    backend = open_store(store_url).backend
    test_name = request.node.originalname
    reason = DEVIATIONS.get((backend.name, test_name))
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    return CountingStore(backend, key_prefix=f"t{uuid.uuid4().hex[:10]}-")

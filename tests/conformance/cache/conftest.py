"""Fixtures of the cache suite: one Cache per case in cache/cases/ (memory, redis-server,
and a 3-node Redis Cluster through ``cluster=true``)."""

from __future__ import annotations

import importlib.util
import uuid

import pytest

from statekit.cache import Cache, open_cache
from tests.conformance.registry import Case, register_suite
from tests.standins.base import StandInPool

CACHE_CASES = register_suite("cache")


@pytest.fixture(params=sorted(CACHE_CASES))
def cache_case(request: pytest.FixtureRequest) -> Case:
    case = CACHE_CASES[request.param]
    if case.needs_module and importlib.util.find_spec(case.needs_module) is None:
        pytest.skip(f"{case.name}: optional extra missing ({case.needs_module} not installed)")
    return case


@pytest.fixture
def cache(
    cache_case: Case, standins: StandInPool, tmp_path_factory: pytest.TempPathFactory
) -> Cache:
    return open_cache(cache_case.url(standins, tmp_path_factory.getbasetemp()))


@pytest.fixture
def ns() -> str:
    """A fresh partition per test, so tests sharing a cache never see each other's keys."""
    return f"ct{uuid.uuid4().hex[:12]}"

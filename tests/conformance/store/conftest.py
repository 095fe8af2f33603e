"""Fixtures of the store suite: a session param over store/cases/, a fresh partition per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import statekit
from tests.conformance.registry import Case, register_suite
from tests.standins.base import StandInPool

STORE_CASES = register_suite("store")


@pytest.fixture(scope="session", params=sorted(STORE_CASES))
def store_case(request: pytest.FixtureRequest) -> Case:
    return STORE_CASES[request.param]


@pytest.fixture(scope="session")
def store(
    store_case: Case, standins: StandInPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[statekit.Store]:
    opened = statekit.open_store(
        store_case.live_url(standins, tmp_path_factory.mktemp(store_case.name))
    )
    yield opened
    opened.close()


@pytest.fixture
def ns() -> str:
    """A fresh partition name per test, so runs and tests never see each other's keys."""
    return f"ck{uuid.uuid4().hex[:12]}"

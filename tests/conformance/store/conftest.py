"""Fixtures of the store suite: a session param over store/cases/, a fresh partition per test."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import statekit
from tests.conformance.registry import Case, register_suite
from tests.standins.base import StandInPool, StandInUnavailable

STORE_CASES = register_suite("store")


def open_case_store(case: Case, standins: StandInPool, workdir: Path) -> statekit.Store:
    if case.needs_module and importlib.util.find_spec(case.needs_module) is None:
        pytest.skip(f"{case.name}: optional extra missing ({case.needs_module} not installed)")
    try:
        url = case.url(standins, workdir)
    except StandInUnavailable as exc:
        pytest.fail(f"{case.name}: stand-in unavailable: {exc}")
    return statekit.open_store(url)


@pytest.fixture(scope="session", params=sorted(STORE_CASES))
def store_case(request: pytest.FixtureRequest) -> Case:
    return STORE_CASES[request.param]


@pytest.fixture(scope="session")
def store(
    store_case: Case, standins: StandInPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[statekit.Store]:
    opened = open_case_store(store_case, standins, tmp_path_factory.mktemp(store_case.name))
    yield opened
    opened.close()


@pytest.fixture
def ns() -> str:
    """A fresh partition name per test, so runs and tests never see each other's keys."""
    return f"ck{uuid.uuid4().hex[:12]}"

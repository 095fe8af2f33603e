"""Engines for the order-saga scenario: each one runs a Scenario and returns an Outcome."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.workflows.saga_script import Scenario, scenarios

ENGINES = ("local", "stepfunctions", "cloud_workflows", "durable")


@pytest.fixture(scope="session")
def saga_scenarios() -> dict[str, Scenario]:
    # A fresh tag per session: run ids (execution names) never collide on a shared stand-in.
    return scenarios(f"order-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def local_engine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.conformance.workflows.engine_local import LocalEngine

    return LocalEngine(tmp_path_factory.mktemp("local-workflows"))


@pytest.fixture(scope="module")
def stepfunctions_engine(standins: Any) -> Any:
    from tests.conformance.workflows.engine_stepfunctions import StepFunctionsEngine

    return StepFunctionsEngine(standins.get("moto"))


@pytest.fixture(scope="module")
def cloud_workflows_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.conformance.workflows.engine_cloud_workflows import (
        ActivityFunction,
        CloudWorkflowsEngine,
        missing_reason,
    )

    reason = missing_reason()
    if reason:
        print(f"SKIP cloud_workflows: {reason}")
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("cloud-workflows")
    function = ActivityFunction(workdir)
    try:
        yield CloudWorkflowsEngine(function, workdir)
    finally:
        function.stop()


@pytest.fixture(scope="module")
def durable_engine() -> Any:
    from tests.conformance.workflows.engine_durable import DurableEngine

    return DurableEngine()


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_engine")


def asl_validator() -> Path | None:
    root = Path(__file__).resolve().parents[3]
    local = root / "node_modules" / ".bin" / "asl-validator"
    if local.exists():
        return local
    found = shutil.which("asl-validator")
    return Path(found) if found else None

"""Workflow clients traced on an engine that cannot be reached (issue 17).

Step Functions and Durable Functions are reached over the network: a client call
against a port where nothing listens must raise BackendUnavailable and be recorded
as one error span with outcome ``unavailable``. (The local executor has no server
of its own: its store's outages are the store suite's; Cloud Workflows has no
stand-in for its executions API.)
"""

from __future__ import annotations

import pytest

from statekit.workflows import open_workflows
from tests.conformance.fault import traced_unavailable
from tests.observability.telemetry_fixture import telemetry_scope
from tests.standins.base import free_port
from tests.standins.moto import FAKE_CREDENTIALS

INPUT_MARKER = "workflow-input-must-not-be-traced-3e8b"
DURABLE_KEY = "durable-system-key-must-not-be-traced-c07d"


def _url(engine: str, port: int, monkeypatch: pytest.MonkeyPatch) -> str:
    if engine == "stepfunctions":
        for name, value in FAKE_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        return f"stepfunctions://us-east-1/123456789012/orders?endpoint=http://127.0.0.1:{port}"
    monkeypatch.setenv("STATEKIT_TEST_DURABLE_KEY", DURABLE_KEY)
    return f"durable://127.0.0.1:{port}/place_order?key_env=STATEKIT_TEST_DURABLE_KEY"


@pytest.mark.parametrize("engine", ["durable", "stepfunctions"])
def test_an_unreachable_engine_is_one_error_span_with_outcome_unavailable(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url(engine, free_port(), monkeypatch)  # a free port: nothing listens there
    with telemetry_scope() as captured:
        client = open_workflows(url)
        span = traced_unavailable(
            captured,
            lambda: client.start("place_order", {"secret": INPUT_MARKER}, "run-1"),
            block="workflows",
            operation="start",
            secrets=[INPUT_MARKER, DURABLE_KEY, FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]],
            backend=engine,
        )
        assert (span.attributes or {})["statekit.workflow.engine"] == engine
        assert captured.points("statekit.workflow.runs") == []  # a failed start starts no run
        traced_unavailable(
            captured,
            lambda: client.status("run-1"),
            block="workflows",
            operation="status",
            backend=engine,
        )

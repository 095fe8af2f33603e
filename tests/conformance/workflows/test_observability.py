"""Workflow clients traced on an engine that cannot be reached (issue 17).

Step Functions, Durable Functions and Cloud Workflows are reached over the network:
a client call against a port where nothing listens must raise BackendUnavailable and
be recorded as one error span with outcome ``unavailable``. The local executor has no
server of its own (its store's outages are the store suite's).
"""

from __future__ import annotations

from typing import Any

import pytest

from statekit import Store
from statekit.observability.instrument import instrument
from statekit.store.backends.memory import MemoryStore
from statekit.urls import parse_url
from statekit.workflows import open_workflows
from tests.conformance.fault import traced_unavailable
from tests.observability.telemetry_fixture import telemetry_scope
from tests.standins.base import free_port
from tests.standins.moto import FAKE_CREDENTIALS

INPUT_MARKER = "workflow-input-must-not-be-traced-3e8b"
DURABLE_KEY = "durable-system-key-must-not-be-traced-c07d"
SECRETS = [INPUT_MARKER, DURABLE_KEY, FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]]


def _client(engine: str, port: int, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``engine``'s client for a server on ``port``, instrumented like ``open_workflows``."""
    if engine == "stepfunctions":
        for name, value in FAKE_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        endpoint = f"http://127.0.0.1:{port}"
        return open_workflows(f"stepfunctions://us-east-1/123456789012/orders?endpoint={endpoint}")
    if engine == "durable":
        monkeypatch.setenv("STATEKIT_TEST_DURABLE_KEY", DURABLE_KEY)
        return open_workflows(
            f"durable://127.0.0.1:{port}/orders?key_env=STATEKIT_TEST_DURABLE_KEY"
        )
    # workflows:// names no endpoint (the client finds Google's, with the function's
    # identity): the same client class over a gRPC channel to the port, anonymous.
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.workflows import executions_v1

    from statekit.workflows.engines.cloud_workflows.client import CLAIMS, CloudWorkflows

    executions = executions_v1.ExecutionsClient(
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": f"127.0.0.1:{port}"},
    )
    client = CloudWorkflows("p", "l", "orders", executions, Store(MemoryStore()))
    # A run claimed earlier, so that status() has an execution to ask the service about.
    parent = client.parent
    client.store.put(f"{CLAIMS}run-2", {"parent": parent, "input": "-", "execution": "e"})
    return instrument(
        "workflows", client, parse_url("workflows://p/l/orders", allowed_schemes={"workflows"})
    )


@pytest.mark.parametrize("engine", ["durable", "stepfunctions", "workflows"])
def test_an_unreachable_engine_is_one_error_span_with_outcome_unavailable(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    with telemetry_scope() as captured:
        client = _client(engine, port, monkeypatch)
        span = traced_unavailable(
            captured,
            lambda: client.start("orders", {"secret": INPUT_MARKER}, "run-1"),
            block="workflows",
            operation="start",
            secrets=SECRETS,
            backend=engine,
        )
        assert (span.attributes or {})["statekit.workflow.engine"] == engine
        assert captured.points("statekit.workflow.runs") == []  # a failed start starts no run
        traced_unavailable(
            captured,
            lambda: client.status("run-2"),
            block="workflows",
            operation="status",
            secrets=SECRETS,
            backend=engine,
        )

"""One invocation as Lambda runs it (awslambdaric), with the telemetry the stack switches on.

The Runtime API hands over a sampled trace (``Lambda-Runtime-Trace-Id``, which the
runtime client puts in ``_X_AMZN_TRACE_ID``); the function has the variables the
stack sets without a collector layer. Its state operations (DynamoDB on moto, the
cache on redis-server) must come out as EMF lines on its standard output and as
subsegments of that trace at the X-Ray daemon address (a UDP socket here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("boto3", reason="the aws extra is not installed")

from statekit.observability.telemetry import CACHE_REQUESTS, OPERATION_DURATION
from tests.observability.emf_workload import metrics_written
from tests.observability.xray_daemon import xray_daemon
from tests.runtime.test_aws import RuntimeAPI, aws_env, http_event

__all__ = ["aws_env"]  # the fixture, shared with test_aws.py

ROOT = Path(__file__).resolve().parents[2]
ROOT_ID = "1-6942a0b1-00112233445566778899aabb"
PARENT_ID = "0a1b2c3d4e5f6071"
NAMESPACE = "statekit/shop-dev"


class TracedRuntimeAPI(RuntimeAPI):
    trace_id = f"Root={ROOT_ID};Parent={PARENT_ID};Sampled=1;Lineage=1f2e3d4c:0"
    received: list[bytes] = []
    served = threading.Event()


def _invoke_once(env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The response the runtime client posted, and the function's standard output."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), TracedRuntimeAPI)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**env, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "awslambdaric", "statekit.runtime.aws.handle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(300):
            if TracedRuntimeAPI.received or process.poll() is not None:
                break
            threading.Event().wait(0.1)
    finally:
        process.kill()
        stdout, stderr = process.communicate()
        server.shutdown()
    assert TracedRuntimeAPI.received, f"no response; stderr:\n{stderr.decode()[-3000:]}"
    return json.loads(TracedRuntimeAPI.received[0]), stdout.decode()


def test_a_sampled_invocation_writes_emf_and_sends_subsegments(aws_env: dict[str, str]) -> None:
    TracedRuntimeAPI.event = json.dumps(
        http_event("GET", "/products/book", None, {"X-Correlation-Id": "ric-otel-1"})
    ).encode()
    TracedRuntimeAPI.received = []
    TracedRuntimeAPI.served = threading.Event()
    with xray_daemon() as daemon:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST", "OTEL_", "_X_AMZN"))
        }
        env.update(
            {
                "STATEKIT_FUNCTION": "api",
                "AWS_LAMBDA_FUNCTION_NAME": "shop-dev-api",
                "STATEKIT_AWS_TELEMETRY": "1",
                "STATEKIT_METRICS_NAMESPACE": NAMESPACE,
                "AWS_XRAY_DAEMON_ADDRESS": daemon.address,
            }
        )
        response, stdout = _invoke_once(env)
        # flush_platform ran before the answer was posted: everything is there already.
        subsegments = daemon.quiet_for(1.0)
    assert response["statusCode"] == 200

    documents = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]
    assert documents, f"no EMF line on stdout:\n{stdout[-2000:]}"
    written = metrics_written(documents, NAMESPACE)
    assert {OPERATION_DURATION, CACHE_REQUESTS} <= written
    assert any(d.get("statekit.backend") == "dynamodb" for d in documents)

    assert subsegments, "no subsegment reached the daemon"
    assert {(s["trace_id"], s["parent_id"]) for s in subsegments} == {(ROOT_ID, PARENT_ID)}
    names = {s["name"] for s in subsegments}
    assert "DynamoDB" in names and "redis" in names, names
    assert {s["annotations"].get("statekit_correlation_id") for s in subsegments} == {"ric-otel-1"}

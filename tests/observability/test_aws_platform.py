"""The ``aws`` platform for real, in a fresh interpreter: EMF lines on stdout, subsegments over UDP.

The child process has the environment a Lambda function gets from the stack
(``STATEKIT_AWS_TELEMETRY``, ``STATEKIT_METRICS_NAMESPACE``) and from Lambda
(``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_XRAY_DAEMON_ADDRESS``, ``_X_AMZN_TRACE_ID``); the
daemon is a UDP socket of this test. Global providers are set once per process,
hence the child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from statekit.observability.telemetry import CACHE_REQUESTS, OPERATION_DURATION
from tests.observability.emf_workload import metrics_written
from tests.observability.xray_daemon import xray_daemon

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "statekit/shop-dev"
ROOT_ID = "1-6942a0b1-0123456789abcdef01234567"
PARENT_ID = "a1b2c3d4e5f60718"

CHILD = textwrap.dedent(
    """
    import json, logging, sys
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    import statekit
    from statekit.errors import Conflict
    from statekit.observability import platform
    chosen = platform.configure_for_platform()
    done = platform.configured()
    with platform.invocation_scope():
        with statekit.open_store("sqlite:///{db}") as store:
            store.put("orders/o-1", {{"card": "4111-secret"}})
            try:
                store.put("orders/o-1", {{"card": "4111-secret"}}, if_absent=True)
            except Conflict:
                pass
        with statekit.open_cache("memory://") as cache:
            cache.get("missing")
    platform.flush_platform()  # what the runtime does as each invocation ends
    sys.stderr.write("RESULT " + json.dumps({{
        "chosen": chosen,
        "exporters": list(done.exporters) if done else [],
    }}) + "\\n")
    """
)


def _run(tmp_path: Path, extra: dict[str, str]) -> tuple[dict[str, Any], list[str], str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "AWS_", "_X_AMZN", "STATEKIT_"))
    }
    env.update({"PYTHONPATH": str(ROOT), "STATEKIT_HOME": str(tmp_path), **extra})
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(db=tmp_path / "state.db")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = next(line for line in done.stderr.splitlines() if line.startswith("RESULT "))
    return json.loads(result.removeprefix("RESULT ")), done.stdout.splitlines(), done.stderr


def test_on_lambda_with_the_switch_metrics_go_to_stdout_and_spans_to_the_daemon(
    tmp_path: Path,
) -> None:
    with xray_daemon() as daemon:
        result, lines, _ = _run(
            tmp_path,
            {
                "AWS_LAMBDA_FUNCTION_NAME": "shop-dev-api",
                "STATEKIT_AWS_TELEMETRY": "1",
                "STATEKIT_METRICS_NAMESPACE": NAMESPACE,
                "AWS_XRAY_DAEMON_ADDRESS": daemon.address,
                "_X_AMZN_TRACE_ID": f"Root={ROOT_ID};Parent={PARENT_ID};Sampled=1",
            },
        )
        subsegments = daemon.receive(3)
        assert daemon.quiet_for(0.3) == []
    assert result == {"chosen": "aws", "exporters": ["XRaySpanExporter", "EmfMetricExporter"]}

    # stdout holds the EMF documents and nothing else.
    documents = [json.loads(line) for line in lines]
    assert documents
    written = metrics_written(documents, NAMESPACE)
    assert written == {OPERATION_DURATION, CACHE_REQUESTS}
    outcomes = {d["statekit.outcome"] for d in documents if OPERATION_DURATION in d}
    assert outcomes == {"ok", "conflict"}

    assert {(s["trace_id"], s["parent_id"]) for s in subsegments} == {(ROOT_ID, PARENT_ID)}
    assert sorted(s["annotations"]["statekit_outcome"] for s in subsegments) == [
        "conflict",
        "ok",
        "ok",
    ]


def test_the_switch_without_a_namespace_is_logged_and_the_function_starts_bare(
    tmp_path: Path,
) -> None:
    result, lines, stderr = _run(
        tmp_path, {"AWS_LAMBDA_FUNCTION_NAME": "shop-dev-api", "STATEKIT_AWS_TELEMETRY": "1"}
    )
    assert result == {"chosen": None, "exporters": []}
    assert lines == []
    assert "STATEKIT_METRICS_NAMESPACE is not set" in stderr

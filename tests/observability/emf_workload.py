"""Every kind of statekit metric, made by real operations and written by the EMF exporter.

Store puts, gets and a Conflict; cache hits and misses; queue sends, receives and
acks; workflow runs started and ended (local executor); an idempotent replay. The
providers are given to ``statekit.observability.configure`` (never the process's
global ones); the EMF lines are read back from the exporter's stream.
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider

import statekit
from statekit import observability
from statekit.errors import Conflict
from statekit.observability.emf import DIMENSION_SETS, EmfMetricExporter
from statekit.observability.telemetry import count_replay
from statekit.workflows import Step, Workflow, open_workflows

NAMESPACE = "statekit/shop-dev"
NEVER = 10**9  # ms: the reader exports only when flushed


def _fail(value: object) -> object:
    raise RuntimeError("card declined")


def run_workload(tmp_path: Path) -> None:
    """The operations; telemetry must be configured by the caller."""
    # Closed after: one client per URL per process, and the next run must be instrumented anew.
    with statekit.open_store(f"sqlite:///{tmp_path}/state.db") as store:
        store.put("orders/o-1", {"card": "4111-1111-secret"})
        store.get("orders/o-1")
        with contextlib.suppress(Conflict):
            store.put("orders/o-1", {"card": "other"}, if_absent=True)
    with statekit.open_cache("memory://") as cache:
        cache.set("k", "v")
        cache.get("k")
        cache.get("missing")
    with statekit.open_queue(f"sqlite:///{tmp_path}/queue.db") as queue:
        queue.send({"type": "order_placed"})
        for message in queue.receive(max_messages=1, wait=0):
            queue.ack(message)
    client = open_workflows("local://?store=" + quote(f"sqlite:///{tmp_path}/wf.db", safe=""))
    ok = Workflow("ok", [Step("one", activity="one")], activities={"one": lambda v: v})
    bad = Workflow("bad", [Step("one", activity="charge")], activities={"charge": _fail})
    client.start(ok, {"n": 1}, "run-ok")
    client.start(bad, {"n": 2}, "run-bad")
    for run_id in ("run-ok", "run-bad"):
        _wait_until_ended(client, run_id)
    count_replay("checkout")


def emf_lines(tmp_path: Path, namespace: str = NAMESPACE) -> list[str]:
    """The workload's metrics as the exporter writes them: one string per written line."""
    stream = io.StringIO()
    reader = PeriodicExportingMetricReader(
        EmfMetricExporter(namespace, stream=stream), export_interval_millis=NEVER
    )
    meter_provider = MeterProvider(metric_readers=[reader])
    tracer_provider = TracerProvider()
    observability.configure(tracer_provider, meter_provider)
    try:
        run_workload(tmp_path)
        meter_provider.force_flush()
    finally:
        observability.reset()
        meter_provider.shutdown()
        tracer_provider.shutdown()
    return stream.getvalue().splitlines(keepends=True)


def _wait_until_ended(client: Any, run_id: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while client.status(run_id).status == "running":
        assert time.monotonic() < deadline, f"{run_id} did not end"
        time.sleep(0.05)


def metrics_written(documents: list[dict[str, Any]], namespace: str) -> set[str]:
    """The metric names ``documents`` carry, each directive checked on the way: in
    ``namespace``, under dimension sets the dashboard reads (``DIMENSION_SETS``)."""
    written: set[str] = set()
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == namespace
            assert all(tuple(dims) in DIMENSION_SETS for dims in directive["Dimensions"])
            written |= {metric["Name"] for metric in directive["Metrics"]}
    return written

"""OTLP export from the standard variables, to a real OTLP/HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.observability.otlp_receiver import otlp_receiver

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter: global providers can be set once per process, and the test
# suite's own process must stay uninstrumented.
CHILD = textwrap.dedent(
    """
    import statekit
    from statekit.observability import configure_from_env
    providers = configure_from_env(service_name="otlp-test")
    assert providers is not None, "OTEL_EXPORTER_OTLP_ENDPOINT was set"
    store = statekit.open_store("sqlite:///{db}")
    store.put("orders/o-1", {{"card": "4111-secret"}})
    store.get("orders/o-1")
    cache = statekit.open_cache("memory://")
    cache.get("missing")
    tracer_provider, meter_provider = providers
    tracer_provider.shutdown()   # flushes the batch processor
    meter_provider.shutdown()    # a last collection and export
    """
)


def test_spans_and_metrics_reach_a_collector_given_by_the_standard_variable(tmp_path: Path) -> None:
    with otlp_receiver() as (endpoint, received):
        env = {
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "STATEKIT_HOME": str(tmp_path),
            "PYTHONPATH": str(ROOT),
        }
        script = CHILD.format(db=tmp_path / "store.db")
        done = subprocess.run(
            [sys.executable, "-c", script],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    names = [name for name, _ in received.spans]
    assert any(name.startswith("put ") for name in names), names
    assert any(name.startswith("get ") for name in names), names
    put_attributes = next(attrs for name, attrs in received.spans if name.startswith("put "))
    assert put_attributes["db.system.name"] == "sqlite"
    assert put_attributes["statekit.partition"] == "orders"
    assert not any("4111-secret" in str(v) for _, attrs in received.spans for v in attrs.values())
    assert {"statekit.operation.duration", "statekit.cache.requests"} <= received.metrics


def test_without_the_variable_nothing_is_configured(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_EXPORTER_OTLP")}
    env["PYTHONPATH"] = str(ROOT)
    script = "from statekit.observability import configure_from_env; print(configure_from_env())"
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "None", done.stderr

"""What observability costs: store get/put and cache get with OpenTelemetry absent, API only, SDK on.

    .venv/bin/python benchmarks/observability_overhead.py [--rounds 7] [--ops 2000]

Four configurations, each measured in its own interpreter (global providers can be
set only once per process), in alternating rounds within one run:

- ``absent``: ``opentelemetry`` cannot be imported (blocked in ``sys.modules``), as
  on an install without the ``otel`` extra;
- ``api``: the API is importable but no SDK is configured (statekit wraps nothing);
- ``sdk``: the SDK with a ``BatchSpanProcessor`` (exporting to a no-op exporter, so the
  network is not measured) and a ``MeterProvider`` with a periodic reader, as deployed:
  every call is a span and a histogram point;
- ``sdk 10%``: the same with ``OTEL_TRACES_SAMPLER=parentbased_traceidratio`` at 0.1,
  what ``observability.trace_sample_percent = 10`` sets on the functions.

The peer, in the same runs: redis-py's own GET, plain and with OpenTelemetry's
redis-py instrumentation (``opentelemetry-instrumentation-redis``) under the same SDK:
what a team tracing Redis without statekit would pay.

- ``aws``: the ``aws`` platform as a Lambda function runs it without a layer (EMF
  exporter on stdout, X-Ray exporter to a UDP port on 127.0.0.1), every call inside a
  sampled invocation segment: the exports themselves included;
- ``aws-unsampled``: the same inside an unsampled invocation (Lambda samples a few
  requests a second): spans are not recorded, metrics are.

Backends: the embedded SQLite store and in-process cache, and Redis (a redis-server
started through tests/standins/redis.py). Prints per-op medians and the ratio of each
configuration against ``absent``. Goals (issue 17): ``api`` within noise of ``absent``;
``sdk`` at most 1.10x on a loopback Redis call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.standins.redis import create  # noqa: E402

CONFIGS = ("absent", "api", "sdk", "sdk10", "aws", "aws-unsampled")
LABELS = {"sdk10": "sdk 10%"}
# The aws configurations' trace: the X-Ray segment of an invocation.
TRACE = "Root=1-6942a0b1-0123456789abcdef01234567;Parent=a1b2c3d4e5f60718;Sampled="

CHILD = r"""
import json, os, sys, time
config, store_url, cache_url, ops = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if config == "absent":
    sys.modules["opentelemetry"] = None  # ImportError on any import of it, as when not installed
elif config.startswith("sdk"):
    if config == "sdk10":  # what trace_sample_percent = 10 sets on the functions
        os.environ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio"
        os.environ["OTEL_TRACES_SAMPLER_ARG"] = "0.1"
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        MetricExporter, MetricExportResult, PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    class DropMetrics(MetricExporter):
        def __init__(self):
            super().__init__()

        def export(self, metrics_data, timeout_millis=0, **kwargs):
            return MetricExportResult.SUCCESS

        def force_flush(self, timeout_millis=0):
            return True

        def shutdown(self, timeout_millis=0, **kwargs):
            pass

    provider = TracerProvider()  # reads OTEL_TRACES_SAMPLER, as on the functions
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    trace.set_tracer_provider(provider)
    # A reader, as deployed: without one the SDK aggregates nothing and looks cheaper.
    reader = PeriodicExportingMetricReader(DropMetrics(), export_interval_millis=3_600_000)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
elif config.startswith("aws"):
    from statekit.observability import platform
    assert platform.configure_for_platform() == "aws"
    platform.invocation_scope().__enter__()  # the whole run is one invocation
import statekit

store = statekit.open_store(store_url)
cache = statekit.open_cache(cache_url)
store.put("bench/k", {"n": 1, "s": "x" * 64})
cache.set("bench-k", {"n": 1})
wrapped = type(store.backend).__name__

def per_op(fn):
    for _ in range(50):
        fn()
    started = time.perf_counter()
    for _ in range(ops):
        fn()
    return (time.perf_counter() - started) / ops * 1e6

value = {"n": 2, "s": "y" * 64}
found = {
    "wrapped": wrapped,
    "store get": per_op(lambda: store.get("bench/k")),
    "store put": per_op(lambda: store.put("bench/k", value)),
    "cache get": per_op(lambda: cache.get("bench-k")),
}
if cache_url.startswith("redis") and config in ("absent", "sdk", "sdk10"):
    # The peer: redis-py itself, with OpenTelemetry's own instrumentation when the SDK is on.
    import redis
    if config != "absent":
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        RedisInstrumentor().instrument()
    raw = redis.Redis.from_url(cache_url)
    raw.set("obs-bench:raw", b"x" * 64)
    found["redis-py get"] = per_op(lambda: raw.get("obs-bench:raw"))
print(json.dumps(found))
"""


def run(config: str, store_url: str, cache_url: str, ops: int) -> dict[str, float | str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(ROOT)
    if config.startswith("aws"):
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": "bench",
                "STATEKIT_AWS_TELEMETRY": "1",
                "STATEKIT_METRICS_NAMESPACE": "statekit/bench",
                "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",  # nothing listens: UDP is sent
                "_X_AMZN_TRACE_ID": TRACE + ("0" if config.endswith("unsampled") else "1"),
            }
        )
    done = subprocess.run(
        [sys.executable, "-c", CHILD, config, store_url, cache_url, str(ops)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    # The aws configurations write EMF lines around the result (the last ones at exit).
    line = next(line for line in done.stdout.splitlines() if line.startswith('{"wrapped"'))
    result: dict[str, float | str] = json.loads(line)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ops", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        server = create(Path(workdir))
        server.start()
        try:
            targets = {
                "embedded": (f"sqlite:///{workdir}/bench.db", "memory://"),
                "redis": (f"{server.url}?prefix=obs-bench:", server.url),
            }
            samples: dict[tuple[str, str, str], list[float]] = {}
            wrapped: dict[tuple[str, str], str] = {}
            for _ in range(args.rounds):
                for target, (store_url, cache_url) in targets.items():
                    for config in CONFIGS:
                        result = run(config, store_url, cache_url, args.ops)
                        wrapped[(target, config)] = str(result.pop("wrapped"))
                        for operation, micros in result.items():
                            samples.setdefault((target, operation, config), []).append(
                                float(micros)
                            )
        finally:
            server.stop()
    print(
        f"per-op medians of {args.rounds} rounds x {args.ops} ops (microseconds); ratio vs absent"
    )
    print(
        f"{'backend':<9} {'operation':<10}" + "".join(f" {LABELS.get(c, c):>14}" for c in CONFIGS)
    )
    for target in targets:
        for operation in ("store get", "store put", "cache get"):
            medians = {c: statistics.median(samples[(target, operation, c)]) for c in CONFIGS}
            cells = [f"{medians[c]:6.1f} {medians[c] / medians['absent']:5.2f}x" for c in CONFIGS]
            print(f"{target:<9} {operation:<10}" + "".join(f" {cell:>14}" for cell in cells))
    peer = {c: samples.get(("redis", "redis-py get", c)) for c in ("absent", "sdk", "sdk10")}
    if all(peer.values()):
        plain, traced, sampled = (statistics.median(peer[c] or []) for c in peer)
        print(
            f"peer: redis-py GET {plain:.1f} us plain; with opentelemetry-instrumentation-redis "
            f"{traced:.1f} us ({traced / plain:.2f}x, +{traced - plain:.1f} us), sampled 10% "
            f"{sampled:.1f} us ({sampled / plain:.2f}x)"
        )
        for label, config in (("sdk", "sdk"), ("sdk 10%", "sdk10")):
            added = statistics.median(samples[("redis", "cache get", config)]) - statistics.median(
                samples[("redis", "cache get", "absent")]
            )
            print(f"statekit redis cache get, {label}: +{added:.1f} us over its own absent")
    print(
        "store backend class per configuration:", {f"{t}/{c}": w for (t, c), w in wrapped.items()}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where statekit's spans and metrics go, and whether anything listens at all.

The OpenTelemetry API is optional (the ``otel`` extra). ``active()`` answers, once
per backend opened, whether to instrument: yes when ``configure()`` named
providers, or when the process's global providers come from an SDK (not the
API's proxies and no-ops). Without the package, or with no SDK, it answers None
and the backends stay unwrapped, so the hot paths pay nothing.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from statekit.errors import BackendUnavailable, Conflict, StatekitError

INSTRUMENTATION_NAME = "statekit"
# The metric instruments the functions emit; the stacks' dashboards and alerts name
# exactly these (modules/common/dashboard.py checks it at synthesis).
OPERATION_DURATION = "statekit.operation.duration"
CACHE_REQUESTS = "statekit.cache.requests"
QUEUE_MESSAGES = "statekit.queue.messages"
WORKFLOW_RUNS = "statekit.workflow.runs"
IDEMPOTENCY_REPLAYS = "statekit.idempotency.replays"
METRICS = (OPERATION_DURATION, CACHE_REQUESTS, QUEUE_MESSAGES, WORKFLOW_RUNS, IDEMPOTENCY_REPLAYS)
OUTCOMES = ("ok", "conflict", "unavailable", "invalid", "error")
RECORD_KEYS_VARIABLE = "STATEKIT_TRACE_KEYS"  # keys can carry personal data: off by default


class Telemetry:
    """A tracer and the metric instruments of every block, made from one pair of providers."""

    def __init__(self, tracer_provider: Any, meter_provider: Any, record_keys: bool) -> None:
        from statekit import __version__

        self.tracer = tracer_provider.get_tracer(INSTRUMENTATION_NAME, __version__)
        meter = meter_provider.get_meter(INSTRUMENTATION_NAME, __version__)
        self.record_keys = record_keys
        self.duration = meter.create_histogram(
            OPERATION_DURATION,
            unit="s",
            description="Duration of state operations by block, backend, operation and outcome",
        )
        self.cache_requests = meter.create_counter(
            CACHE_REQUESTS, description="Cache lookups by hit (true) or miss (false)"
        )
        self.queue_messages = meter.create_counter(
            QUEUE_MESSAGES,
            description="Queue messages sent, received, acked, released and dead-lettered",
        )
        self.workflow_runs = meter.create_counter(
            WORKFLOW_RUNS, description="Workflow runs started and ended, by status"
        )
        self.idempotency_replays = meter.create_counter(
            IDEMPOTENCY_REPLAYS, description="Calls answered from a stored result"
        )


class _Choice:
    """What ``configure()`` chose, shared by the whole process."""

    lock = threading.Lock()
    telemetry: Telemetry | None = None
    explicit = False
    api_missing = False
    # Bumped by configure() and reset(): the shared clients (statekit.clients.shared) are
    # made per generation, so an open_* after either gets a client wrapped for the new
    # choice instead of one made before it.
    generation = 0


def configure(
    tracer_provider: Any = None, meter_provider: Any = None, *, record_keys: bool | None = None
) -> None:
    """Send statekit's telemetry to these providers (default: the global ones).

    Affects backends opened afterwards. ``record_keys`` puts item keys on spans
    (default: ``$STATEKIT_TRACE_KEYS`` is ``1``); values are never recorded.
    """
    from opentelemetry import metrics, trace

    keys = record_keys if record_keys is not None else _keys_from_env()
    with _Choice.lock:
        _Choice.telemetry = Telemetry(
            tracer_provider or trace.get_tracer_provider(),
            meter_provider or metrics.get_meter_provider(),
            keys,
        )
        _Choice.explicit = True
        _Choice.generation += 1


def reset() -> None:
    """Forget ``configure()``: back to following the global providers."""
    with _Choice.lock:
        _Choice.telemetry = None
        _Choice.explicit = False
        _Choice.generation += 1


def generation() -> int:
    """How many times ``configure()`` or ``reset()`` changed the choice in this process."""
    return _Choice.generation


def active() -> Telemetry | None:
    """The telemetry to instrument with, or None when nothing would receive it."""
    if _Choice.explicit:
        return _Choice.telemetry
    if _Choice.api_missing:
        return None
    try:
        from opentelemetry import metrics, trace
    except ImportError:
        _Choice.api_missing = True  # a failed import is not cached by Python: remember it
        return None
    tracer_provider = trace.get_tracer_provider()
    meter_provider = metrics.get_meter_provider()
    if _is_placeholder(tracer_provider) and _is_placeholder(meter_provider):
        return None
    with _Choice.lock:
        if _Choice.telemetry is None:
            _Choice.telemetry = Telemetry(tracer_provider, meter_provider, _keys_from_env())
        return _Choice.telemetry


def _is_placeholder(provider: Any) -> bool:
    # The API's own proxies and no-ops are what a process has until an SDK is set.
    return type(provider).__module__.startswith("opentelemetry.trace") or type(
        provider
    ).__module__.startswith("opentelemetry.metrics")


def _keys_from_env() -> bool:
    return os.environ.get(RECORD_KEYS_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


def outcome_of(error: BaseException | None) -> str:
    """The outcome label of metrics: ok, conflict, unavailable, invalid or error."""
    if error is None:
        return "ok"
    if isinstance(error, Conflict):
        return "conflict"
    if isinstance(error, BackendUnavailable):
        return "unavailable"
    if isinstance(error, StatekitError):
        return "invalid"
    return "error"


def count_replay(function_name: str) -> None:
    """An idempotent call answered from its stored result (``statekit.idempotency.replays``)."""
    telemetry = active()
    if telemetry is not None:
        telemetry.idempotency_replays.add(1, {"statekit.function": function_name})

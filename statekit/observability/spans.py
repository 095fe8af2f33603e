"""One measured call: a span, a duration metric with its outcome, and the error's class.

Shared by every block's instrumented backend so the naming, the outcome labels and
the rule "never a value, never a secret" live once. Written as one plain function
(no context manager, no context attach): statekit's spans are leaves, and on a
loopback Redis call every microsecond of the SDK's own cost shows
(benchmarks/observability_overhead.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from statekit.errors import Conflict
from statekit.observability import semconv
from statekit.observability.context import current_correlation_id
from statekit.observability.telemetry import Telemetry, outcome_of

try:  # Imported once here, not per call: this module is loaded only when telemetry is on.
    from opentelemetry.trace import SpanKind

    _CLIENT: Any = SpanKind.CLIENT
except ImportError:  # pragma: no cover - measure() is never called without the API
    _CLIENT = None

ResultAttributes = Callable[[Any], Mapping[str, Any]]
FinalAttributes = Callable[[], Mapping[str, Any]]
ItemErrors = Callable[[Any], Iterable[BaseException]]
# A batch hook answers per item instead of raising: the call is recorded by its items'
# worst failure, the service unreachable first, a failed condition last.
_SEVERITY = ("unavailable", "error", "invalid", "conflict")


def measure(
    telemetry: Telemetry,
    span_name: str,
    attributes: dict[str, Any],
    metric_attributes: Mapping[str, Mapping[str, str]],
    fn: Callable[..., Any],
    *args: Any,
    result_attributes: ResultAttributes | None = None,
    final_attributes: FinalAttributes | None = None,
    item_errors: ItemErrors | None = None,
) -> Any:
    """Call ``fn(*args)`` inside a CLIENT span; record its duration under its outcome.

    ``metric_attributes`` maps each outcome label to the metric's attributes (built
    once per operation by the caller, so a call allocates none). ``final_attributes``,
    asked once the call is over (either way), goes on the span and the metric point.
    ``item_errors`` gives the per-item failures a batch call returned (see
    ``errors_in``): a batch with failed items is recorded as failed, by the worst.
    """
    correlation_id = current_correlation_id()
    if correlation_id is not None:
        attributes = {**attributes, semconv.CORRELATION_ID: correlation_id}
    span = telemetry.tracer.start_span(span_name, kind=_CLIENT, attributes=attributes)
    started = time.perf_counter()
    try:
        result = fn(*args)
    except BaseException as error:
        outcome = _failed(span, error)
        telemetry.duration.record(
            time.perf_counter() - started,
            _final(span, metric_attributes[outcome], final_attributes),
        )
        span.end()
        raise
    elapsed = time.perf_counter() - started
    outcome = "ok"
    if item_errors is not None:
        worst = _worst(item_errors(result))
        if worst is not None:
            outcome = _failed(span, worst)
    telemetry.duration.record(elapsed, _final(span, metric_attributes[outcome], final_attributes))
    if result_attributes is not None:
        span.set_attributes(result_attributes(result))
    if outcome == "ok":
        span.set_attribute(semconv.OUTCOME, "ok")
    span.end()
    return result


def _failed(span: Any, error: BaseException) -> str:
    """Mark ``span`` with ``error``'s outcome and type; return the outcome label."""
    from opentelemetry.trace import Status, StatusCode

    outcome = outcome_of(error)
    span.set_attribute(semconv.OUTCOME, outcome)
    span.set_attribute(semconv.ERROR_TYPE, type(error).__name__)
    if isinstance(error, Conflict):
        # A failed condition is an answer, not a fault: marked, not an error status.
        span.set_attribute(semconv.CONFLICT, True)
    else:
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    return outcome


def _worst(errors: Iterable[BaseException]) -> BaseException | None:
    worst: BaseException | None = None
    rank = len(_SEVERITY)
    for error in errors:
        this = _SEVERITY.index(outcome_of(error))
        if this < rank:
            worst, rank = error, this
    return worst


def errors_in(results: Any) -> list[BaseException]:
    """The per-item failures in a batch hook's answer: a mapping's values or a list's items
    that are exceptions (the rest are etags or message ids)."""
    values = results.values() if isinstance(results, Mapping) else results
    return [value for value in values if isinstance(value, BaseException)]


def _final(
    span: Any, metric_attributes: Mapping[str, Any], final_attributes: FinalAttributes | None
) -> Mapping[str, Any]:
    if final_attributes is None:
        return metric_attributes
    final = final_attributes()
    span.set_attributes(final)
    return {**metric_attributes, **final}


def partition_of(key: str) -> str:
    return key.partition("/")[0]

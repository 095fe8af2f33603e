"""One measured call: a span, a duration metric with its outcome, and the error's class.

Shared by every block's instrumented backend so the naming, the outcome labels and
the rule "never a value, never a secret" live once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from statekit.errors import Conflict
from statekit.observability import semconv
from statekit.observability.context import current_correlation_id
from statekit.observability.telemetry import Telemetry, outcome_of


class Call:
    """What the wrapped call learned about its result, set before the span ends."""

    __slots__ = ("attributes", "error")

    def __init__(self) -> None:
        self.attributes: dict[str, Any] = {}
        self.error: BaseException | None = None


@contextmanager
def measured(
    telemetry: Telemetry,
    span_name: str,
    attributes: Mapping[str, Any],
    metric_attributes: Mapping[str, str],
) -> Iterator[Call]:
    from opentelemetry.trace import SpanKind, Status, StatusCode

    call = Call()
    started = time.perf_counter()
    with telemetry.tracer.start_as_current_span(
        span_name,
        kind=SpanKind.CLIENT,
        attributes=_with_correlation(attributes),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield call
        except BaseException as error:
            call.error = error
            raise
        finally:
            outcome = outcome_of(call.error)
            if call.attributes:
                span.set_attributes(call.attributes)
            span.set_attribute(semconv.OUTCOME, outcome)
            if call.error is not None:
                span.set_attribute(semconv.ERROR_TYPE, type(call.error).__name__)
                if isinstance(call.error, Conflict):
                    # A failed condition is an answer, not a fault: marked, not an error status.
                    span.set_attribute(semconv.CONFLICT, True)
                else:
                    span.set_status(Status(StatusCode.ERROR, type(call.error).__name__))
            telemetry.duration.record(
                time.perf_counter() - started, {**metric_attributes, semconv.OUTCOME: outcome}
            )


def _with_correlation(attributes: Mapping[str, Any]) -> Mapping[str, Any]:
    correlation_id = current_correlation_id()
    if correlation_id is None:
        return attributes
    return {**attributes, semconv.CORRELATION_ID: correlation_id}


def partition_of(key: str) -> str:
    return key.partition("/")[0]


Wrapped = Callable[..., Any]

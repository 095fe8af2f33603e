"""The state operations one request made, from statekit's own spans, for ``statekit dev``.

A span processor (the OpenTelemetry SDK's: the ``otel`` extra) keeps, for each correlation id it is told to
watch, the statekit spans that carry it; the dev server takes them after the
request and prints one line per operation::

      put shop/cart-42  1.2 ms ok

Only spans of watched ids are kept (a queue worker's or a workflow's spans are
not collected here, so nothing grows without bound). A line names the item's key
when the spans carry keys (``configure(record_keys=True)``), else its partition;
never a value: spans have none.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import SpanProcessor

from statekit.observability import semconv
from statekit.observability.telemetry import INSTRUMENTATION_NAME

_OPERATION_ATTRIBUTES = (semconv.DB_OPERATION, semconv.MESSAGING_OPERATION, semconv.OPERATION)
_SUBJECT_ATTRIBUTES = (
    semconv.KEY,
    semconv.PARTITION,
    semconv.MESSAGING_MESSAGE_ID,
    semconv.MESSAGING_DESTINATION,
    "statekit.workflow.engine",
)


@dataclass(frozen=True)
class Operation:
    """One state operation of a request, as its span told it."""

    operation: str
    subject: str
    milliseconds: float
    outcome: str
    notes: tuple[str, ...] = ()

    def line(self) -> str:
        notes = "".join(f"  {note}" for note in self.notes)
        subject = f" {self.subject}" if self.subject else ""
        return f"  {self.operation}{subject}  {self.milliseconds:.1f} ms {self.outcome}{notes}"


def operation_of(name: str, attributes: Mapping[str, Any], nanoseconds: int) -> Operation:
    """What one statekit span says: operation, key or partition, duration, outcome."""
    operation = next(
        (str(attributes[a]) for a in _OPERATION_ATTRIBUTES if a in attributes),
        name.split(" ", 1)[0],
    )
    subject = next((str(attributes[a]) for a in _SUBJECT_ATTRIBUTES if a in attributes), "")
    notes: list[str] = []
    if semconv.UPDATE_ATTEMPTS in attributes:
        attempts = attributes[semconv.UPDATE_ATTEMPTS]
        notes.append(f"{attempts} attempt{'' if attempts == 1 else 's'}")
    if semconv.CACHE_HIT in attributes:
        notes.append("hit" if attributes[semconv.CACHE_HIT] else "miss")
    if semconv.ERROR_TYPE in attributes:
        notes.append(str(attributes[semconv.ERROR_TYPE]))
    return Operation(
        operation,
        subject,
        nanoseconds / 1e6,
        str(attributes.get(semconv.OUTCOME, "?")),
        tuple(notes),
    )


class RequestOperations(SpanProcessor):
    """A span processor grouping statekit's spans by the correlation id they carry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watched: dict[str, list[Operation]] = {}

    def watch(self, correlation_id: str) -> None:
        """Collect the operations made under ``correlation_id`` until ``take``."""
        with self._lock:
            self._watched.setdefault(correlation_id, [])

    def take(self, correlation_id: str) -> list[Operation]:
        """The operations made under ``correlation_id``, in the order they ended; stops watching."""
        with self._lock:
            return self._watched.pop(correlation_id, [])

    # -- SpanProcessor -------------------------------------------------------------------
    def on_end(self, span: Any) -> None:
        scope = span.instrumentation_scope
        if scope is None or scope.name != INSTRUMENTATION_NAME:
            return
        attributes = span.attributes or {}
        correlation_id = attributes.get(semconv.CORRELATION_ID)
        if correlation_id is None or correlation_id not in self._watched:
            return
        operation = operation_of(span.name, attributes, (span.end_time or 0) - span.start_time)
        with self._lock:
            found = self._watched.get(str(correlation_id))
            if found is not None:
                found.append(operation)

    def shutdown(self) -> None:
        with self._lock:
            self._watched.clear()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

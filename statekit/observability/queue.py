"""The queue backend, instrumented: messaging spans and messages counted by what happened."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from statekit.observability import semconv
from statekit.observability.base import InstrumentedBackend
from statekit.observability.spans import ItemErrors, errors_in, measure

# statekit operation -> messaging.operation.type (semantic conventions)
OPERATION_TYPES = {
    "send": "send",
    "send_many": "send",
    "receive": "receive",
    "ack": "settle",
    "ack_many": "settle",
    "release": "settle",
    "extend": "settle",
    "dead_letters": "receive",
}


class InstrumentedQueue(InstrumentedBackend):
    block = "queue"

    def _call(
        self,
        operation: str,
        fn: Any,
        *args: Any,
        batch: int | None = None,
        message: Any = None,
        item_errors: ItemErrors | None = None,
    ) -> Any:
        assert self.telemetry is not None  # a queue is wrapped only for telemetry
        attributes: dict[str, Any] = {
            semconv.MESSAGING_SYSTEM: semconv.MESSAGING_SYSTEMS.get(
                self.backend_name, self.backend_name
            ),
            semconv.MESSAGING_OPERATION: operation,
            semconv.MESSAGING_OPERATION_TYPE: OPERATION_TYPES[operation],
        }
        if self.target:
            attributes[semconv.MESSAGING_DESTINATION] = self.target
        if batch is not None:
            attributes[semconv.MESSAGING_BATCH_COUNT] = batch
        if message is not None:
            attributes[semconv.MESSAGING_MESSAGE_ID] = message.id
            attributes[semconv.ATTEMPT] = message.attempts
        return measure(
            self.telemetry,
            self.span_name(operation),
            attributes,
            self.metric(operation),
            fn,
            *args,
            item_errors=item_errors,
        )

    def _count(self, event: str, n: int) -> None:
        assert self.telemetry is not None
        if n:
            self.telemetry.queue_messages.add(
                n, {**self.metric_attributes, "statekit.queue.event": event}
            )

    def send(self, message: Any) -> str:
        message_id: str = self._call("send", self.inner.send, message)
        self._count("sent", 1)
        return message_id

    def send_many(self, messages: Sequence[Any]) -> list[Any]:
        results: list[Any] = self._call(
            "send_many", self.inner.send_many, messages, batch=len(messages), item_errors=errors_in
        )
        self._count("sent", sum(1 for result in results if isinstance(result, str)))
        return results

    def receive(self, max_messages: int, wait: float, visibility: int) -> list[Any]:
        received: list[Any] = self._call(
            "receive", self.inner.receive, max_messages, wait, visibility
        )
        self._count("received", len(received))
        return received

    def ack(self, message: Any) -> None:
        self._call("ack", self.inner.ack, message, message=message)
        self._count("acked", 1)

    def ack_many(self, messages: Sequence[Any]) -> dict[str, Any]:
        failed: dict[str, Any] = self._call(
            "ack_many", self.inner.ack_many, messages, batch=len(messages), item_errors=errors_in
        )
        self._count("acked", len(messages) - len(failed))
        return failed

    def change_visibility(self, message: Any, seconds: int) -> None:
        # Visibility 0 is a release (the message is due again now); more is an extension.
        operation = "release" if seconds == 0 else "extend"
        self._call(operation, self.inner.change_visibility, message, seconds, message=message)
        if seconds == 0:
            self._count("released", 1)

    def dead_letters(self, max_messages: int, visibility: int) -> list[Any]:
        found: list[Any] = self._call(
            "dead_letters", self.inner.dead_letters, max_messages, visibility
        )
        self._count("dead_letter_read", len(found))
        return found

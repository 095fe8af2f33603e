"""The order-event consumer, shared by every cloud's queue entry point.

``consume`` takes (message id, raw body) pairs and returns the ids that failed;
the platform then redelivers exactly those, and after its maximum attempts
moves them to the dead-letter queue (SQS redrive, ``<queue>-poison``, Pub/Sub
dead-letter topic). A body that is not JSON is poison too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from handlers.app import get_app
from handlers.logs import correlation, get_logger


def consume(messages: Iterable[tuple[str, str | bytes]]) -> list[str]:
    app = get_app()
    failed: list[str] = []
    for message_id, raw in messages:
        try:
            event = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            event = raw  # not JSON: handle_order_event refuses it as poison
        correlation_id = event.get("correlation_id") if isinstance(event, dict) else None
        with correlation(correlation_id):
            try:
                app.handle_order_event(event)
            except Exception as exc:  # a failed message is reported, not raised
                get_logger().warning(
                    "order event failed",
                    extra={"fields": {"message_id": message_id, "error": str(exc)}},
                )
                failed.append(message_id)
    return failed

"""The order-event consumer: one queue message in; raising marks it failed.

statekit's runtime calls it for each message the cloud's queue trigger hands
over (SQS batch, Azure queue trigger, Pub/Sub push) and reports the failures,
so the platform redelivers exactly those and, after its maximum attempts,
moves them to the dead-letter queue (SQS redrive, ``<queue>-poison``, Pub/Sub
dead-letter topic). A body that is not JSON is poison too.
"""

from __future__ import annotations

from handlers.app import get_app
from statekit.queue import Message


def handle(message: Message) -> None:
    get_app().handle_order_event(message.body)

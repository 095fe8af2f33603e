"""The e-mail consumer (``QueueConsumer("emails", ...)``, permission ``send_email``).

"Sending" writes the mail to the store's outbox once per booking (a redelivered
message is sent once); a message that can never be sent raises, so the queue
retries it and then dead-letters it.
"""

from __future__ import annotations

import contextlib

from booking.state import state
from statekit.errors import Conflict
from statekit.queue import Message


class Unsendable(ValueError):
    pass


def handle(message: Message) -> None:
    body = message.body
    if not isinstance(body, dict) or body.get("type") != "booking_confirmed":
        raise Unsendable(f"not a mail this service sends: {body!r}")
    to, booking_id = body.get("to"), body.get("booking_id")
    if not isinstance(to, str) or "@" not in to or not isinstance(booking_id, str):
        raise Unsendable(f"a mail needs 'to' and 'booking_id': {body!r}")
    mail = {"to": to, "subject": f"Your booking {booking_id}", "message_id": message.id}
    with contextlib.suppress(Conflict):  # sent already: at-least-once, once in effect
        state().store.put(f"mail-{booking_id}/sent", mail, if_absent=True)

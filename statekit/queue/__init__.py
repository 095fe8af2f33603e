"""The queue: send, receive with a visibility timeout, ack, release, dead letters.

``facade`` holds the ``Queue`` every caller uses, ``backend`` the contract a
backend implements, ``messages`` the message types and portable rules, ``batch``
the helpers for partial batch failures, ``backends/`` one module per service.
"""

from statekit.queue.backend import QueueCapability, QueueLimits, ReceiptExpired
from statekit.queue.batch import handle_sqs_event, process_batch
from statekit.queue.facade import (
    DEFAULT_QUEUE_URL,
    QUEUE_URL_VARIABLE,
    Queue,
    max_attempts_param,
    open_queue,
)
from statekit.queue.messages import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_VISIBILITY_SECONDS,
    MAX_BODY_BYTES,
    MAX_DEDUP_ID_CHARS,
    MAX_DELAY_SECONDS,
    MAX_RECEIVE_MESSAGES,
    MAX_VISIBILITY_SECONDS,
    MAX_WAIT_SECONDS,
    InvalidMessage,
    Message,
    MessageTooLarge,
    Outgoing,
    SendResult,
)

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_QUEUE_URL",
    "DEFAULT_VISIBILITY_SECONDS",
    "MAX_BODY_BYTES",
    "MAX_DEDUP_ID_CHARS",
    "MAX_DELAY_SECONDS",
    "MAX_RECEIVE_MESSAGES",
    "MAX_VISIBILITY_SECONDS",
    "MAX_WAIT_SECONDS",
    "QUEUE_URL_VARIABLE",
    "InvalidMessage",
    "Message",
    "MessageTooLarge",
    "Outgoing",
    "Queue",
    "QueueCapability",
    "QueueLimits",
    "ReceiptExpired",
    "SendResult",
    "handle_sqs_event",
    "max_attempts_param",
    "open_queue",
    "process_batch",
]

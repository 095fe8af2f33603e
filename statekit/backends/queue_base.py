"""Deprecated alias of ``statekit.queue.backend`` (README, "Changelog"). Remove in 0.3."""

from statekit.queue.backend import (
    OutgoingRaw,
    QueueBackend,
    QueueCapability,
    QueueLimits,
    ReceiptExpired,
    ReceivedRaw,
)

__all__ = [
    "OutgoingRaw",
    "QueueBackend",
    "QueueCapability",
    "QueueLimits",
    "ReceiptExpired",
    "ReceivedRaw",
]

"""What ``@idempotent`` raises besides the store's own errors."""

from __future__ import annotations

import time

from statekit.errors import StatekitError


class AlreadyInProgress(StatekitError):
    """A call with the same idempotency key is running now (or did not finish in time)."""

    def __init__(self, function: str, record_key: str, until: float, waited: float = 0.0) -> None:
        left = max(0.0, until - time.time())
        waited_text = f" after waiting {waited:.1f}s" if waited else ""
        super().__init__(
            f"{function}: a call with the same idempotency key ({record_key}) is still in "
            f"progress{waited_text}; it is taken over if not finished in {left:.1f}s"
        )
        self.function = function
        self.record_key = record_key
        self.until = until


class IdempotencyKeyMismatch(StatekitError, ValueError):
    """The same idempotency key arrived with a different payload."""

    def __init__(self, function: str, record_key: str) -> None:
        super().__init__(
            f"{function}: idempotency key ({record_key}) was already used with a different "
            "payload; a retry must send the same payload, a new request needs a new key"
        )
        self.function = function
        self.record_key = record_key


class IdempotencyKeyError(StatekitError, ValueError):
    """The key (or payload) could not be taken from the call's arguments."""


class ResultNotReplayable(StatekitError, TypeError):
    """The function's result cannot be stored as JSON, so it could not be replayed."""

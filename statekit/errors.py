"""The one error family of statekit.

Every error a caller can see is a ``StatekitError``; each message names the key
(or URL, or option) and the rule it broke, so a log line is enough to act on.
Subclasses also derive from the matching built-in exception so code that
already catches ``ValueError``/``KeyError`` style errors keeps working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statekit.store.types import Item


class StatekitError(Exception):
    """Base of every statekit error."""


class Conflict(StatekitError):
    """A condition (``if_match``, ``if_absent``, a transaction check) failed.

    ``current`` is the item as the backend saw it when the condition failed
    (``None`` when it does not exist), when the backend reports it in the same
    round trip; callers use it to retry without a second read.
    """

    def __init__(
        self,
        key: str,
        rule: str,
        current: Item | None = None,
        *,
        current_reported: bool = False,
    ) -> None:
        super().__init__(f"conflict on key {key!r}: {rule}")
        self.key = key
        self.rule = rule
        self.current = current
        # True when ``current`` (even ``None``: missing) is what the backend reported.
        self.current_reported = current_reported or current is not None


class InvalidKey(StatekitError, ValueError):
    """A key (or prefix) breaks the portable key rules."""

    def __init__(self, key: object, rule: str) -> None:
        super().__init__(f"invalid key {key!r}: {rule}")
        self.key = key
        self.rule = rule


class InvalidValue(StatekitError, ValueError):
    """A value is not JSON-compatible, or not of the type an operation needs."""

    def __init__(self, key: str, rule: str) -> None:
        super().__init__(f"invalid value for key {key!r}: {rule}")
        self.key = key
        self.rule = rule


class ValueTooLarge(StatekitError, ValueError):
    """A value is over the portable size limit."""

    def __init__(self, key: str, size: int, limit: int) -> None:
        super().__init__(
            f"value for key {key!r} is {size} bytes as JSON; the portable limit is {limit} bytes"
        )
        self.key = key
        self.size = size
        self.limit = limit


class InvalidTransaction(StatekitError, ValueError):
    """A transaction breaks a rule that holds on every backend."""


class CrossPartitionTransaction(InvalidTransaction):
    """A transaction names keys of more than one partition (refused before any call)."""

    def __init__(self, partitions: list[str]) -> None:
        super().__init__(
            "a transaction must stay within one partition (the part of a key before its "
            f"first '/'); it names {len(partitions)}: {', '.join(map(repr, partitions))}"
        )
        self.partitions = partitions


class InvalidURL(StatekitError, ValueError):
    """A connection URL (``STATEKIT_*_URL`` or an argument) cannot be used."""

    def __init__(self, url: str, rule: str, source: str = "url") -> None:
        super().__init__(f"invalid {source} {url!r}: {rule}")
        self.url = url
        self.rule = rule


class InvalidOption(StatekitError, ValueError):
    """An option (ttl, limit, attempts, cursor, ...) has a value that is not allowed."""


class Unsupported(StatekitError, NotImplementedError):
    """The backend does not declare the capability this call needs."""

    def __init__(self, backend: str, capability: str) -> None:
        super().__init__(f"backend {backend!r} does not support {capability!r}")
        self.backend = backend
        self.capability = capability


class BackendUnavailable(StatekitError, ConnectionError):
    """The backend could not be reached after bounded retries; nothing was applied."""

    def __init__(self, backend: str, operation: str, cause: BaseException | None = None) -> None:
        detail = f": {type(cause).__name__}: {cause}" if cause is not None else ""
        super().__init__(f"backend {backend!r} unavailable during {operation}{detail}")
        self.backend = backend
        self.operation = operation

"""The store's value types: what every backend returns and every caller passes.

They live apart from the ``Store`` facade so that backends and ``statekit.errors``
can use them without importing the facade (layers point one way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from statekit.errors import StatekitError


class Capability(StrEnum):
    CONDITIONAL_WRITES = "conditional_writes"  # if_match / if_absent
    TTL = "ttl"
    INCREMENT = "increment"
    TRANSACTIONS = "transactions"
    LIST = "list"  # prefix listing within a partition
    BATCH = "batch"  # get_many / put_many / delete_many


ALL_CAPABILITIES = frozenset(Capability)


class Limits(NamedTuple):
    """What a backend allows; the portable limits are the smallest of these."""

    max_value_bytes: int
    max_transaction_ops: int
    batch_read_chunk: int
    batch_write_chunk: int
    ttl_precision: str
    consistency: str
    notes: str = ""
    # The largest magnitude a counter holds exactly (``increment`` refuses, changing
    # nothing, a sum beyond it); ``None``: any integer a JSON value can hold.
    max_counter: int | None = None


class Item(NamedTuple):
    """One stored item. Immutable; a named tuple because every read makes one
    (cheaper than a frozen dataclass, measured in benchmarks/store_embedded.py)."""

    key: str
    value: Any
    etag: str
    expires_at: float | None = None  # epoch seconds; None: no TTL


class Page(NamedTuple):
    items: list[Item]
    cursor: str | None  # pass back as ``cursor=`` for the next page; None at the end

    @property
    def keys(self) -> list[str]:
        return [item.key for item in self.items]


@dataclass
class BatchResult:
    """Per-key outcome of ``put_many``/``delete_many``: nothing is silently dropped."""

    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, StatekitError] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def raise_for_failures(self) -> None:
        if self.failed:
            key, error = next(iter(self.failed.items()))
            raise StatekitError(
                f"{len(self.failed)} of {len(self.failed) + len(self.succeeded)} keys failed; "
                f"first: {key!r}: {error}"
            ) from error


class Put(NamedTuple):
    key: str
    value: Any
    if_match: str | None = None
    if_absent: bool = False
    ttl: float | None = None


class Delete(NamedTuple):
    key: str
    if_match: str | None = None


class Check(NamedTuple):
    """A condition-only operation in a transaction: the key must be unchanged (or absent)."""

    key: str
    if_match: str | None = None
    if_absent: bool = False


# The value objects above are named tuples, not frozen dataclasses: a frozen
# dataclass costs about 0.9 ms to define, a named tuple 0.1 ms, and each is
# defined on every cold start (benchmarks/cold_start.py).
Operation = Put | Delete | Check
WriteListener = Callable[[str], None]

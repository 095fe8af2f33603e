"""What a store backend implements: small translation hooks, nothing else.

Like Powertools' ``BasePersistenceLayer``, every backend-agnostic rule lives in
``statekit.store.Store`` and ``statekit.store.rules``; a backend receives validated
keys, encoded JSON text, fresh etags and absolute expiry times, and maps them to
its service in as few round trips as the service allows.

Meaning every hook must keep:

* An item whose ``expires_at`` is ``<= now`` does not exist, for every read,
  condition and listing (services that delete lazily still hold it).
* ``if_match`` succeeds only if the live item has that etag; ``if_absent`` only if
  no live item exists. A failed condition raises ``Conflict`` (with ``current``
  when the service returns it in the same round trip) and writes nothing.
* A write returns the etag now stored: the proposed one, or the service's own.
* Connection failures are retried a bounded number of times by the SDK and then
  raised as ``BackendUnavailable``; nothing is half-applied.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from statekit.errors import Conflict

if TYPE_CHECKING:
    from statekit.errors import StatekitError
    from statekit.store.types import Capability, Item, Limits
    from statekit.urls import ConnectionURL


# Named tuples, not dataclasses: one is made per item written (put_many makes a
# hundred per call) and per cold start, and a tuple is the cheapest immutable record.
class WriteCondition(NamedTuple):
    if_match: str | None = None
    if_absent: bool = False

    @property
    def is_conditional(self) -> bool:
        return self.if_match is not None or self.if_absent


NO_CONDITION = WriteCondition()

# The rules a failed write condition names, worded once for every backend.
KEY_EXISTS = "if_absent: the key already exists"
KEY_MISSING = "if_match: the key does not exist"
ETAG_CHANGED = "if_match: the etag no longer matches (the item changed)"


def condition_failed(key: str, condition: WriteCondition, current: Item | None) -> Conflict:
    """The Conflict of a write whose condition failed, reporting the current item
    (``None``: missing) that the backend read or got back in the same round trip."""
    if condition.if_absent:
        rule = KEY_EXISTS
    elif current is None:
        rule = KEY_MISSING
    else:
        rule = ETAG_CHANGED
    return Conflict(key, rule, current, current_reported=True)


class PreparedPut(NamedTuple):
    item: Item  # carries the proposed etag and the absolute expiry
    data: str  # the value as canonical JSON text
    condition: WriteCondition


class PreparedDelete(NamedTuple):
    key: str
    condition: WriteCondition


class PreparedCheck(NamedTuple):
    key: str
    condition: WriteCondition


PreparedOp = PreparedPut | PreparedDelete | PreparedCheck


class StoreBackend(ABC):
    """One service's translation of the store contract."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    limits: ClassVar[Limits]

    @classmethod
    @abstractmethod
    def from_url(cls, url: ConnectionURL) -> StoreBackend:
        """Build the backend from its connection URL (validated, unknown params refused)."""

    @abstractmethod
    def get(self, key: str, now: float) -> Item | None: ...

    @abstractmethod
    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        """Live items among ``keys`` (distinct); missing ones are left out."""

    @abstractmethod
    def put(self, op: PreparedPut, now: float) -> str:
        """Write ``op.item`` under ``op.condition``; return the etag now stored."""

    @abstractmethod
    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        """Remove the live item; ``False`` if there was none (and no condition failed)."""

    @abstractmethod
    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        """Atomically add ``by`` (a missing or expired item counts as 0); keep expiry.

        Raise ``InvalidValue`` if the live value is not an integer.
        """

    @abstractmethod
    def put_many(self, ops: Sequence[PreparedPut], now: float) -> Mapping[str, StatekitError | str]:
        """Unconditional writes in native batches.

        Return the keys that failed, with why; a backend whose service makes its
        own etags also returns, for keys that succeeded, the etag stored.
        """

    @abstractmethod
    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, StatekitError]:
        """Unconditional deletes in native batches; return the keys that failed, with why."""

    @abstractmethod
    def transact(self, ops: Sequence[PreparedOp], now: float) -> list[str | None]:
        """Apply all ops atomically (one partition, distinct keys) or none.

        Return, per op, the etag stored by a put and ``None`` for deletes and checks.
        """

    @abstractmethod
    def list(self, prefix: str, after: str | None, limit: int, now: float) -> list[Item]:
        """Live items whose key starts with ``prefix`` and is ``> after``, in key order.

        Must be a query within the prefix's partition, never a scan of everything.
        """

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release connections."""

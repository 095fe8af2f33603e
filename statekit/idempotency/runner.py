"""The idempotency protocol for one decorated function: claim, run, complete or release.

1. Claim: write an in-progress record with ``if_absent``; a refusal carries (or one
   read fetches) the stored record: replay it when completed, fail or wait while in
   progress, take it over with ``if_match`` once expired.
2. Run the function; if it raises, release (delete our record with ``if_match``).
3. Complete: store the result with ``if_match`` on our in-progress record's etag.

``_claim`` is a generator that yields the seconds to wait, so ``call`` (``time.sleep``)
and ``call_async`` (``asyncio.sleep``) share it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Generator
from typing import Any

from statekit.errors import Conflict, InvalidValue, StatekitError, ValueTooLarge
from statekit.idempotency.call_identity import CallIdentity
from statekit.idempotency.errors import (
    AlreadyInProgress,
    IdempotencyKeyMismatch,
    ResultNotReplayable,
)
from statekit.idempotency.record import (
    COMPLETED,
    IN_PROGRESS,
    IdempotencyRecord,
    completed_value,
    in_progress_value,
)
from statekit.observability.telemetry import count_replay
from statekit.store import Capability, Item, Store

_MAX_CLAIM_ROUNDS = 64  # races on one key settle in a few rounds; this only stops a livelock

log = logging.getLogger("statekit.idempotency")


class Runner(CallIdentity):
    """One decorated function's calls (``wrapper.__wrapped_idempotency__``)."""

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        store, record_key, payload_hash, expiry = self.identify(args, kwargs)
        steps = self._claim(store, record_key, payload_hash, expiry)
        try:
            while True:
                time.sleep(next(steps))
        except StopIteration as claim:
            claimed, replayed = claim.value
        if claimed is None:
            count_replay(self.name)
            return replayed
        try:
            result = self.func(*args, **kwargs)
        except BaseException:
            self._release(store, record_key, claimed)
            raise
        self._complete(store, record_key, claimed, payload_hash, result)
        return result

    async def call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The same protocol for ``async def``: waits yield to the event loop.

        The store calls themselves are the Store's synchronous calls (short, one
        round trip each); only the polling of ``on_duplicate="wait"`` sleeps.
        """
        store, record_key, payload_hash, expiry = self.identify(args, kwargs)
        steps = self._claim(store, record_key, payload_hash, expiry)
        try:
            while True:
                await asyncio.sleep(next(steps))
        except StopIteration as claim:
            claimed, replayed = claim.value
        if claimed is None:
            count_replay(self.name)
            return replayed
        try:
            result = await self.func(*args, **kwargs)
        except BaseException:  # CancelledError too: a retry must be able to run
            self._release(store, record_key, claimed)
            raise
        self._complete(store, record_key, claimed, payload_hash, result)
        return result

    def _store_ttl(self, store: Store, seconds: float) -> float | None:
        # Without native TTL the record's own times still rule (checked on read).
        return seconds if Capability.TTL in store.capabilities else None

    def _claim(
        self, store: Store, record_key: str, payload_hash: str, expiry: float
    ) -> Generator[float, None, tuple[Item | None, Any]]:
        """Returns ``(in-progress item, None)`` when this call must run, ``(None, result)``
        to replay; yields the seconds to sleep while waiting for a running duplicate
        (the caller sleeps: ``time.sleep`` or ``asyncio.sleep``)."""
        record_ttl = self._store_ttl(store, max(self.spec.ttl, expiry))
        current: Item | None = None
        known = False  # whether ``current`` reflects the store (else: try if_absent first)
        if self.spec.read_first:
            current, known = store.get(record_key), True
        wait_started: float | None = None
        delay = 0.02
        races = 0
        while races < _MAX_CLAIM_ROUNDS:
            if not known or current is None:
                try:
                    item = store.put(
                        record_key,
                        in_progress_value(self.name, payload_hash, expiry),
                        if_absent=True,
                        ttl=record_ttl,
                    )
                    return item, None
                except Conflict as conflict:
                    current = (
                        conflict.current if conflict.current_reported else store.get(record_key)
                    )
                    known = True
                    if current is None:
                        races += 1
                        continue  # removed in between (a failed first call): try again
            assert current is not None
            record = IdempotencyRecord.of(current, self.name)
            now = time.time()
            if record.is_expired(now):
                try:  # take over the crashed call's record: one of the racers wins
                    item = store.put(
                        record_key,
                        in_progress_value(self.name, payload_hash, expiry),
                        if_match=current.etag,
                        ttl=record_ttl,
                    )
                    if record.status == IN_PROGRESS:
                        log.warning(
                            "%s: took over expired in-progress record %s", self.name, record_key
                        )
                    return item, None
                except Conflict as conflict:
                    current = (
                        conflict.current if conflict.current_reported else store.get(record_key)
                    )
                    races += 1
                    continue
            if record.payload_hash != payload_hash:
                raise IdempotencyKeyMismatch(self.name, record_key)
            if record.status == COMPLETED:
                return None, record.result
            if self.spec.on_duplicate == "fail":
                raise AlreadyInProgress(self.name, record_key, record.in_progress_until)
            # Wait for the running call: poll with capped backoff, at most wait_timeout.
            if wait_started is None:
                wait_started = time.monotonic()
            waited = time.monotonic() - wait_started
            limit = self.spec.wait_timeout if self.spec.wait_timeout is not None else expiry
            if waited >= limit:
                raise AlreadyInProgress(self.name, record_key, record.in_progress_until, waited)
            yield min(delay, limit - waited, max(0.0, record.in_progress_until - now) + 0.01)
            delay = min(delay * 2, 0.5)
            current = store.get(record_key)
        raise StatekitError(f"{self.name}: could not claim {record_key}: it kept changing")

    def _release(self, store: Store, record_key: str, claimed: Item) -> None:
        """Remove our in-progress record so a retry runs again (never mask the real error)."""
        try:
            store.delete(record_key, if_match=claimed.etag)
        except Conflict:
            pass  # our record expired and another call took it over: theirs now
        except StatekitError as exc:
            log.warning(
                "%s: could not remove in-progress record %s (%s); a retry is refused "
                "until it expires",
                self.name,
                record_key,
                exc,
            )

    def _complete(
        self, store: Store, record_key: str, claimed: Item, payload_hash: str, result: Any
    ) -> None:
        completed = completed_value(self.name, payload_hash, self.spec.ttl, result)
        try:
            store.put(
                record_key,
                completed,
                if_match=claimed.etag,
                ttl=self._store_ttl(store, self.spec.ttl),
            )
        except (InvalidValue, ValueTooLarge) as exc:
            self._release(store, record_key, claimed)
            raise ResultNotReplayable(
                f"{self.name} returned a result that cannot be stored for replay "
                f"({type(result).__name__}): {exc.rule if isinstance(exc, InvalidValue) else exc}; "
                "return JSON-compatible data (dict, list, str, number, bool, None). The call "
                "ran; its record was removed so a retry runs it again"
            ) from None
        except Conflict:
            # Our in-progress record expired and another call took over: both ran.
            log.warning(
                "%s: in-progress record %s expired before the call finished and was taken "
                "over; raise in_progress_expiry above the function's run time",
                self.name,
                record_key,
            )
        except StatekitError as exc:
            # The call ran and succeeded: its caller gets the result. Raising would make
            # the caller retry work that is done. Duplicates are refused until the
            # in-progress record expires, and after that run again: say so loudly.
            log.error(
                "%s: the call succeeded but its result could not be stored at %s (%s); "
                "duplicates are refused until the in-progress record expires, then run again",
                self.name,
                record_key,
                exc,
            )

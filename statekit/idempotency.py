"""``@idempotent``: run a function once per key; duplicates get the stored result.

Works over any ``Store`` (only its public API, so every backend), like
Powertools' idempotency utility:

1. The first call writes an *in-progress* record with ``if_absent`` (one write),
   runs the function, and stores the result with ``if_match`` on the
   in-progress record's etag (the second write). A first call costs two writes.
2. A duplicate's ``if_absent`` write is refused, and the refusal carries the
   stored record where the backend reports it (``Conflict.current``; otherwise
   one read): it returns the stored result (replay), after checking that its
   payload hash matches (same key, different payload: ``IdempotencyKeyMismatch``).
   With ``read_first=True`` a call reads before writing instead, so a replay is
   exactly one read and a first call one read and two writes.
3. If the function raises, the in-progress record is removed (``if_match``), so
   a retry runs it again.
4. A duplicate that finds the record in progress fails fast with
   ``AlreadyInProgress`` (``on_duplicate="fail"``) or polls until the result is
   stored (``on_duplicate="wait"``, at most ``wait_timeout`` seconds).
5. An in-progress record whose expiry has passed (its call crashed or timed
   out) is taken over with a conditional write on its etag, so exactly one of
   several racing callers wins it. The expiry is ``in_progress_expiry`` if
   given, else the function's remaining time where the platform tells it (a
   Lambda context among the arguments, or a deadline set with
   ``function_deadline`` by an Azure or Google Cloud entry point), else
   ``DEFAULT_IN_PROGRESS_EXPIRY`` seconds.

Results must be JSON-compatible (they are stored and replayed as JSON); a replay
returns the decoded JSON, so a tuple comes back as a list.
``async def`` functions follow the same protocol; waiting for a duplicate then
yields to the event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import inspect
import json
import logging
import math
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from statekit import rules
from statekit.errors import (
    Conflict,
    InvalidOption,
    InvalidValue,
    StatekitError,
    Unsupported,
    ValueTooLarge,
)
from statekit.store import Capability, Item, Store, open_store

DEFAULT_TTL = 3600.0
# When the platform does not say how long the function may run: longer than
# Google Cloud's default timeout (60 s) and Azure's consumption default (5 min),
# so a slow first call is not run twice; a crashed one blocks retries this long.
DEFAULT_IN_PROGRESS_EXPIRY = 300.0
MIN_IN_PROGRESS_EXPIRY = 1.0
RECORD_PREFIX = "idem-"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
_MAX_CLAIM_ROUNDS = 64  # races on one key settle in a few rounds; this only stops a livelock

log = logging.getLogger("statekit.idempotency")
F = TypeVar("F", bound=Callable[..., Any])
KeySpec = Callable[..., Any] | str
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "statekit_function_deadline", default=None
)
_canonical = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


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


@contextmanager
def function_deadline(at: float | datetime) -> Iterator[None]:
    """Tell ``@idempotent`` when this invocation will be stopped (epoch seconds or datetime).

    Azure Functions and Cloud Functions do not pass the remaining time; their
    entry points know the configured timeout and wrap the call in this.
    """
    epoch = at.timestamp() if isinstance(at, datetime) else float(at)
    token = _deadline.set(epoch)
    try:
        yield
    finally:
        _deadline.reset(token)


def idempotent(
    *,
    key: KeySpec,
    store: Store | str | None = None,
    ttl: float = DEFAULT_TTL,
    in_progress_expiry: float | Callable[..., float] | None = None,
    on_duplicate: Literal["fail", "wait"] = "fail",
    wait_timeout: float | None = None,
    payload: KeySpec | None = None,
    namespace: str | None = None,
    read_first: bool = False,
) -> Callable[[F], F]:
    """Make a function run once per idempotency key; duplicates get the stored result.

    ``key``: a callable over the function's arguments, or a JMESPath expression
    over the event (the first argument), like ``"body.order_id"`` or
    ``"from_json(body).order_id"`` for a JSON body in a string. ``store``: a
    ``Store``, a store URL, or ``None`` for ``open_store()`` at the first call.
    ``payload``: what must be equal for a replay (same forms as ``key``; default:
    for a JMESPath key the event without ``DELIVERY_FIELDS``, else every argument
    but platform contexts).
    """
    spec = _Spec.build(
        key=key,
        store=store,
        ttl=ttl,
        in_progress_expiry=in_progress_expiry,
        on_duplicate=on_duplicate,
        wait_timeout=wait_timeout,
        payload=payload,
        namespace=namespace,
        read_first=read_first,
    )

    def decorate(func: F) -> F:
        runner = _Runner(func, spec)
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await runner.call_async(args, kwargs)

            async_wrapper.__wrapped_idempotency__ = runner  # type: ignore[attr-defined]
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return runner.call(args, kwargs)

        wrapper.__wrapped_idempotency__ = runner  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


# -- options -----------------------------------------------------------------------------
def _seconds(name: str, value: object, *, allow_none: bool) -> float | None:
    if value is None and allow_none:
        return None
    if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:  # type: ignore[operator, arg-type]
        raise InvalidOption(
            f"@idempotent {name} must be a positive number of seconds, got {value!r}"
        )
    return float(value)  # type: ignore[arg-type]


def _ttl(value: object) -> float:
    seconds = _seconds("ttl", value, allow_none=False) or DEFAULT_TTL
    if seconds > rules.MAX_TTL_SECONDS:
        raise InvalidOption(
            f"@idempotent ttl must be at most {rules.MAX_TTL_SECONDS} seconds, got {value!r}"
        )
    return seconds


def _selector(name: str, spec: KeySpec) -> Callable[[tuple[Any, ...], dict[str, Any]], Any]:
    if callable(spec):
        return lambda args, kwargs: spec(*args, **kwargs)
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidOption(
            f"@idempotent {name} must be a callable over the arguments or a JMESPath "
            f"expression string, got {spec!r}"
        )
    try:
        import jmespath
        from jmespath.exceptions import JMESPathError
    except ModuleNotFoundError:
        raise InvalidOption(
            f"@idempotent {name} {spec!r} is a JMESPath expression, which needs the "
            "'jmespath' package (a statekit dependency): pip install jmespath; or pass a callable"
        ) from None

    try:
        compiled = jmespath.compile(spec)
    except JMESPathError as exc:
        raise InvalidOption(f"@idempotent {name}: invalid JMESPath {spec!r}: {exc}") from None
    options = _jmespath_options()

    def select(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        event = args[0] if args else kwargs.get("event")
        if not isinstance(event, dict | list):
            raise IdempotencyKeyError(
                f"{name} {spec!r} is a JMESPath expression over the event, so the first "
                f"argument must be a dict or list, got {type(event).__name__}; pass a callable"
            )
        try:
            return compiled.search(event, options=options)
        except JMESPathError as exc:
            raise IdempotencyKeyError(f"{name} {spec!r} failed on the event: {exc}") from None

    return select


@functools.cache
def _jmespath_options() -> Any:
    """JMESPath options with ``from_json(s)``: parse a JSON string in the event (API Gateway's body)."""
    import jmespath
    import jmespath.functions

    class JsonFunctions(jmespath.functions.Functions):  # type: ignore[misc]
        @jmespath.functions.signature({"types": ["string"]})  # type: ignore[untyped-decorator]
        def _func_from_json(self, text: str) -> Any:
            return json.loads(text)

    return jmespath.Options(custom_functions=JsonFunctions())


# Top-level event fields that differ between deliveries of the same request
# (API Gateway's requestContext and trace headers, an SQS record's receipt handle
# and receive count): left out of the default payload of a JMESPath key, so a
# redelivery replays instead of being refused as a different payload.
DELIVERY_FIELDS = frozenset(
    {"requestContext", "headers", "multiValueHeaders", "receiptHandle", "attributes"}
)


def _without_delivery_fields(event: Any) -> Any:
    if isinstance(event, dict):
        return {k: v for k, v in event.items() if k not in DELIVERY_FIELDS}
    return event


@dataclass(frozen=True)
class _Spec:
    key: Callable[[tuple[Any, ...], dict[str, Any]], Any]
    key_is_jmespath: bool
    payload: Callable[[tuple[Any, ...], dict[str, Any]], Any] | None
    store: Store | str | None
    ttl: float
    in_progress_expiry: float | Callable[..., float] | None
    on_duplicate: str
    wait_timeout: float | None
    namespace: str | None
    read_first: bool

    @classmethod
    def build(cls, **options: Any) -> _Spec:
        key = options["key"]
        payload = options["payload"]
        store = options["store"]
        if store is not None and not isinstance(store, Store | str):
            raise InvalidOption(
                f"@idempotent store must be a Store, a store URL or None, got {store!r}"
            )
        expiry = options["in_progress_expiry"]
        if not callable(expiry):
            _seconds("in_progress_expiry", expiry, allow_none=True)
        if options["on_duplicate"] not in ("fail", "wait"):
            raise InvalidOption(
                f"@idempotent on_duplicate must be 'fail' or 'wait', got {options['on_duplicate']!r}"
            )
        namespace = options["namespace"]
        if namespace is not None and (not isinstance(namespace, str) or not namespace):
            raise InvalidOption(
                f"@idempotent namespace must be a non-empty string, got {namespace!r}"
            )
        if type(options["read_first"]) is not bool:
            raise InvalidOption(
                f"@idempotent read_first must be True or False, got {options['read_first']!r}"
            )
        return cls(
            key=_selector("key", key),
            key_is_jmespath=isinstance(key, str),
            payload=None if payload is None else _selector("payload", payload),
            store=store,
            ttl=_ttl(options["ttl"]),
            in_progress_expiry=expiry,
            on_duplicate=options["on_duplicate"],
            wait_timeout=_seconds("wait_timeout", options["wait_timeout"], allow_none=True),
            namespace=namespace,
            read_first=options["read_first"],
        )


# -- one decorated function --------------------------------------------------------------
def _is_platform_context(value: object) -> bool:
    return callable(getattr(value, "get_remaining_time_in_millis", None))


@dataclass(frozen=True, slots=True)
class _Record:
    status: str
    payload_hash: str
    in_progress_until: float
    expires_at: float | None
    result: Any

    @classmethod
    def of(cls, item: Item, function: str) -> _Record:
        value = item.value
        try:
            return cls(
                value["status"],
                value["payload_hash"],
                float(value.get("in_progress_until") or 0.0),
                value.get("expires_at"),
                value.get("result"),
            )
        except (TypeError, KeyError, ValueError):
            raise StatekitError(
                f"{function}: the item at {item.key!r} is not an idempotency record; "
                "is another program writing that key?"
            ) from None

    def is_expired(self, now: float) -> bool:
        if self.status == IN_PROGRESS:
            return self.in_progress_until <= now
        return self.expires_at is not None and self.expires_at <= now


class _Runner:
    def __init__(self, func: Callable[..., Any], spec: _Spec) -> None:
        self.func = func
        self.spec = spec
        qualname = getattr(func, "__qualname__", type(func).__qualname__)  # callable objects too
        self.name = spec.namespace or f"{func.__module__}.{qualname}"
        self._store: Store | None = spec.store if isinstance(spec.store, Store) else None

    # -- what identifies a call ----------------------------------------------------------
    def store(self) -> Store:
        if self._store is None:
            url = self.spec.store if isinstance(self.spec.store, str) else None
            self._store = open_store(url)
        if Capability.CONDITIONAL_WRITES not in self._store.capabilities:
            raise Unsupported(self._store.backend.name, Capability.CONDITIONAL_WRITES.value)
        return self._store

    def record_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        value = self.spec.key(args, kwargs)
        if value in (None, "", [], {}) or (
            isinstance(value, list) and all(part is None for part in value)
        ):
            raise IdempotencyKeyError(
                f"{self.name}: the idempotency key is empty ({value!r}) for this call; "
                "check the key selector against the event"
            )
        text = self._canonical(value, "the idempotency key")
        digest = hashlib.sha256(f"{self.name}\n{text}".encode()).hexdigest()
        return f"{RECORD_PREFIX}{digest[:48]}"

    def payload_hash(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        if self.spec.payload is not None:
            value = self.spec.payload(args, kwargs)
        elif self.spec.key_is_jmespath:
            event = args[0] if args else kwargs.get("event")
            value = _without_delivery_fields(event)
        else:
            value = {
                "args": [a for a in args if not _is_platform_context(a)],
                "kwargs": {k: v for k, v in kwargs.items() if not _is_platform_context(v)},
            }
        text = self._canonical(value, "the payload (the function's arguments)")
        return hashlib.sha256(text.encode()).hexdigest()

    def _canonical(self, value: Any, what: str) -> str:
        try:
            return _canonical.encode(value)
        except (TypeError, ValueError) as exc:
            raise IdempotencyKeyError(
                f"{self.name}: {what} must be JSON-compatible to be hashed ({exc}); "
                "pass key=/payload= selecting the JSON part"
            ) from None

    def in_progress_expiry(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> float:
        configured = self.spec.in_progress_expiry
        if callable(configured):
            seconds = _seconds(
                "in_progress_expiry()", configured(*args, **kwargs), allow_none=False
            )
        elif configured is not None:
            seconds = float(configured)
        else:
            seconds = self._platform_remaining(args, kwargs) or DEFAULT_IN_PROGRESS_EXPIRY
        return max(MIN_IN_PROGRESS_EXPIRY, seconds or 0.0)

    @staticmethod
    def _platform_remaining(args: tuple[Any, ...], kwargs: dict[str, Any]) -> float | None:
        for value in (*args, *kwargs.values()):
            if _is_platform_context(value):  # the Lambda context
                return float(value.get_remaining_time_in_millis()) / 1000.0
        deadline = _deadline.get()
        return None if deadline is None else deadline - time.time()

    # -- the protocol --------------------------------------------------------------------
    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        store, record_key, payload_hash, expiry = self._identify(args, kwargs)
        steps = self._claim(store, record_key, payload_hash, expiry)
        try:
            while True:
                time.sleep(next(steps))
        except StopIteration as claim:
            claimed, replayed = claim.value
        if claimed is None:
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
        store, record_key, payload_hash, expiry = self._identify(args, kwargs)
        steps = self._claim(store, record_key, payload_hash, expiry)
        try:
            while True:
                await asyncio.sleep(next(steps))
        except StopIteration as claim:
            claimed, replayed = claim.value
        if claimed is None:
            return replayed
        try:
            result = await self.func(*args, **kwargs)
        except BaseException:  # CancelledError too: a retry must be able to run
            self._release(store, record_key, claimed)
            raise
        self._complete(store, record_key, claimed, payload_hash, result)
        return result

    def _identify(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Store, str, str, float]:
        store = self.store()
        return (
            store,
            self.record_key(args, kwargs),
            self.payload_hash(args, kwargs),
            self.in_progress_expiry(args, kwargs),
        )

    def _in_progress(self, payload_hash: str, expiry: float) -> dict[str, Any]:
        return {
            "status": IN_PROGRESS,
            "payload_hash": payload_hash,
            "in_progress_until": time.time() + expiry,
            "function": self.name,
        }

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
                        self._in_progress(payload_hash, expiry),
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
            record = _Record.of(current, self.name)
            now = time.time()
            if record.is_expired(now):
                try:  # take over the crashed call's record: one of the racers wins
                    item = store.put(
                        record_key,
                        self._in_progress(payload_hash, expiry),
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
        completed = {
            "status": COMPLETED,
            "payload_hash": payload_hash,
            "expires_at": time.time() + self.spec.ttl,
            "function": self.name,
            "result": result,
        }
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

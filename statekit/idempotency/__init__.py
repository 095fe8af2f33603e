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

The parts: ``options`` (the decorator's options, checked at decoration),
``selectors`` (key and payload: callables or JMESPath), ``call_identity`` (record
key, payload hash, in-progress expiry), ``deadline`` (the platform's remaining
time, ``function_deadline``), ``record`` (the stored record) and ``runner`` (the
protocol above); ``errors`` has the exceptions.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from statekit.idempotency.deadline import function_deadline
from statekit.idempotency.errors import (
    AlreadyInProgress,
    IdempotencyKeyError,
    IdempotencyKeyMismatch,
    ResultNotReplayable,
)
from statekit.idempotency.options import (
    DEFAULT_IN_PROGRESS_EXPIRY,
    DEFAULT_TTL,
    MIN_IN_PROGRESS_EXPIRY,
    IdempotencyOptions,
)
from statekit.idempotency.record import COMPLETED, IN_PROGRESS, RECORD_PREFIX
from statekit.idempotency.runner import Runner
from statekit.idempotency.selectors import DELIVERY_FIELDS, KeySpec
from statekit.store import Store

__all__ = [
    "COMPLETED",
    "DEFAULT_IN_PROGRESS_EXPIRY",
    "DEFAULT_TTL",
    "DELIVERY_FIELDS",
    "IN_PROGRESS",
    "MIN_IN_PROGRESS_EXPIRY",
    "RECORD_PREFIX",
    "AlreadyInProgress",
    "IdempotencyKeyError",
    "IdempotencyKeyMismatch",
    "KeySpec",
    "ResultNotReplayable",
    "function_deadline",
    "idempotent",
]

F = TypeVar("F", bound=Callable[..., Any])


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
    spec = IdempotencyOptions.build(
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
        runner = Runner(func, spec)
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

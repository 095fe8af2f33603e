"""``@idempotent``'s options, checked once at decoration: bad ones fail there, by name."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statekit.errors import InvalidOption
from statekit.idempotency.selectors import Selector, selector
from statekit.store import Store, rules

DEFAULT_TTL = 3600.0
# When the platform does not say how long the function may run: longer than
# Google Cloud's default timeout (60 s) and Azure's consumption default (5 min),
# so a slow first call is not run twice; a crashed one blocks retries this long.
DEFAULT_IN_PROGRESS_EXPIRY = 300.0
MIN_IN_PROGRESS_EXPIRY = 1.0


def seconds_option(name: str, value: object, *, allow_none: bool) -> float | None:
    if value is None and allow_none:
        return None
    if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:  # type: ignore[operator, arg-type]
        raise InvalidOption(
            f"@idempotent {name} must be a positive number of seconds, got {value!r}"
        )
    return float(value)  # type: ignore[arg-type]


def ttl_option(value: object) -> float:
    seconds = seconds_option("ttl", value, allow_none=False) or DEFAULT_TTL
    if seconds > rules.MAX_TTL_SECONDS:
        raise InvalidOption(
            f"@idempotent ttl must be at most {rules.MAX_TTL_SECONDS} seconds, got {value!r}"
        )
    return seconds


@dataclass(frozen=True)
class IdempotencyOptions:
    key: Selector
    key_is_jmespath: bool
    payload: Selector | None
    store: Store | str | None
    ttl: float
    in_progress_expiry: float | Callable[..., float] | None
    on_duplicate: str
    wait_timeout: float | None
    namespace: str | None
    read_first: bool

    @classmethod
    def build(cls, **options: Any) -> IdempotencyOptions:
        key = options["key"]
        payload = options["payload"]
        store = options["store"]
        if store is not None and not isinstance(store, Store | str):
            raise InvalidOption(
                f"@idempotent store must be a Store, a store URL or None, got {store!r}"
            )
        expiry = options["in_progress_expiry"]
        if not callable(expiry):
            seconds_option("in_progress_expiry", expiry, allow_none=True)
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
            key=selector("key", key),
            key_is_jmespath=isinstance(key, str),
            payload=None if payload is None else selector("payload", payload),
            store=store,
            ttl=ttl_option(options["ttl"]),
            in_progress_expiry=expiry,
            on_duplicate=options["on_duplicate"],
            wait_timeout=seconds_option("wait_timeout", options["wait_timeout"], allow_none=True),
            namespace=namespace,
            read_first=options["read_first"],
        )

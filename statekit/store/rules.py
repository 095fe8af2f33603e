"""The store's shared rules, written once: keys, values, TTL, cursors, partitions.

Backends never re-check any of this; they receive keys, encoded values and
absolute expiry times that already obey these rules.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import os
import re
import time
from typing import Any

from statekit.errors import InvalidKey, InvalidOption, InvalidValue, ValueTooLarge

# Cosmos DB ids are at most 255 characters and some backends must escape a few
# characters in them; 200 UTF-8 bytes leaves room on every backend.
MAX_KEY_BYTES = 200
# DynamoDB's item limit is 400 KiB (409,600 bytes) including attribute names and
# the key attributes statekit adds; 400,000 bytes of JSON leaves room for them and is
# below Firestore's 1 MiB and Cosmos DB's 2 MB.
MAX_VALUE_BYTES = 400_000
# Ten years: long enough for any cache or session, short enough to be a mistake above it.
MAX_TTL_SECONDS = 10 * 365 * 24 * 3600
PARTITION_SEPARATOR = "/"
# Containers (lists, objects) nested deeper than this are refused: every backend's
# JSON (SQLite's json functions, Cosmos, the SDKs' parsers) has its own recursion
# limit, and Python's encoder fails at about 1000 with a RecursionError.
MAX_VALUE_DEPTH = 64

# C0 controls, DEL and the C1 controls: invisible, and some services refuse them.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A lone surrogate is not valid UTF-8: services store it differently or refuse it
# (DynamoDB joins a surrogate pair into the emoji it encodes: two keys, one item).
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_decode = json.JSONDecoder().decode
# raw_decode skips decode()'s whitespace handling; safe for text statekit encoded itself.
_raw_decode = json.JSONDecoder().raw_decode


def check_key(key: object) -> str:
    """Return ``key`` if it is a valid portable key, else raise ``InvalidKey``."""
    if type(key) is not str:
        raise InvalidKey(key, f"keys must be strings, not {type(key).__name__}")
    if not key:
        raise InvalidKey(key, "keys must not be empty")
    # A code point is at most 4 UTF-8 bytes, so short keys skip the encode; the
    # "surrogatepass" handler lets a lone surrogate reach its own, clearer error.
    if len(key) * 4 > MAX_KEY_BYTES and len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(key, f"keys are at most {MAX_KEY_BYTES} bytes as UTF-8")
    if not key.isascii() and _SURROGATES.search(key):
        raise InvalidKey(key, "keys must be valid Unicode text (a lone surrogate is not)")
    # Printable ASCII has no control characters: two C calls, cheaper than the regex.
    if not (key.isascii() and key.isprintable()) and _CONTROL_CHARS.search(key):
        raise InvalidKey(key, "keys must not contain control characters (C0, DEL or C1)")
    if key[0] == PARTITION_SEPARATOR:
        raise InvalidKey(key, "the partition (the text before the first '/') must not be empty")
    return key


def partition_of(key: str) -> str:
    """The partition of a key: the text before its first '/', or the whole key."""
    head, _, _ = key.partition(PARTITION_SEPARATOR)
    return head


def check_prefix(prefix: object) -> str:
    """A listing prefix must name its partition: ``'<partition>/...'``."""
    if type(prefix) is not str:
        raise InvalidKey(prefix, f"a prefix must be a string, not {type(prefix).__name__}")
    if PARTITION_SEPARATOR not in prefix or prefix.startswith(PARTITION_SEPARATOR):
        raise InvalidKey(
            prefix, "a listing prefix must start with its partition and a '/', like 'cart-42/'"
        )
    if (
        len(prefix.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES
        or _CONTROL_CHARS.search(prefix)
        or _SURROGATES.search(prefix)
    ):
        raise InvalidKey(
            prefix,
            f"a prefix follows the key rules (at most {MAX_KEY_BYTES} bytes, valid Unicode, "
            "no control characters)",
        )
    return prefix


def encode_value(key: str, value: Any) -> str:
    """Canonical JSON text of ``value``, checked against the portable size limit."""
    try:
        data = _encoder.encode(value)
    except (TypeError, ValueError) as exc:
        raise InvalidValue(key, f"values must be JSON-compatible: {exc}") from None
    except RecursionError:
        raise InvalidValue(key, _TOO_DEEP) from None
    if not data.isascii() and _SURROGATES.search(data):
        raise InvalidValue(key, "strings in values must be valid Unicode (a lone surrogate is not)")
    if len(data) * 4 > MAX_VALUE_BYTES:
        size = len(data.encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            raise ValueTooLarge(key, size, MAX_VALUE_BYTES)
    # Fewer brackets than the limit cannot nest deeper than it: the common case skips the walk.
    if data.count("[") + data.count("{") > MAX_VALUE_DEPTH and _depth_over_limit(value):
        raise InvalidValue(key, _TOO_DEEP)
    return data


_TOO_DEEP = f"values nest lists and objects at most {MAX_VALUE_DEPTH} levels deep"


def _depth_over_limit(value: Any) -> bool:
    """True if ``value`` nests containers deeper than ``MAX_VALUE_DEPTH`` (iterative walk)."""
    if not isinstance(value, (dict, list, tuple)):
        return False  # the brackets were inside a string
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (dict, list, tuple)):
                if depth + 1 > MAX_VALUE_DEPTH:
                    return True
                pending.append((child, depth + 1))
    return False


def decode_value(data: str) -> Any:
    return _raw_decode(data)[0]


def expires_at(ttl: object, now: float | None = None) -> float | None:
    """Absolute expiry (epoch seconds) for ``ttl`` seconds from now; ``None`` for no TTL."""
    if ttl is None:
        return None
    if type(ttl) not in (int, float) or not math.isfinite(ttl):  # type: ignore[arg-type]
        raise InvalidOption(f"ttl must be a number of seconds, got {ttl!r}")
    seconds = float(ttl)  # type: ignore[arg-type]
    if seconds <= 0 or seconds > MAX_TTL_SECONDS:
        raise InvalidOption(f"ttl must be > 0 and at most {MAX_TTL_SECONDS} seconds, got {ttl!r}")
    return (time.time() if now is None else now) + seconds


def is_expired(expiry: float | None, now: float) -> bool:
    return expiry is not None and expiry <= now


class _EtagSource:
    """72 random bits per process and a counter: no two writes share an etag."""

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.prefix = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
        self.counter = itertools.count()


_etags = _EtagSource()
# A forked child must not replay its parent's etags.
os.register_at_fork(after_in_child=_etags.reseed)


def new_etag() -> str:
    """A fresh opaque etag: 72 random bits per process and a counter, so no two writes share one.

    Cheaper than fresh randomness per write (no system call) and just as unique.
    """
    return f"{_etags.prefix}{next(_etags.counter):x}"


def prefix_upper_bound(prefix: str) -> str | None:
    """Smallest string greater than every string starting with ``prefix`` (code-point order)."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return None
    return prefix[:-1] + chr(last + 1)


def encode_cursor(prefix: str, last_key: str) -> str:
    raw = _encoder.encode({"p": prefix, "a": last_key}).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(prefix: str, cursor: str) -> str:
    """The key after which the next page starts; the cursor must come from this prefix."""
    try:
        body = _decode(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8"))
        issued_for, last_key = body["p"], body["a"]
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise InvalidOption(f"cursor {cursor!r} is not one statekit issued") from None
    if issued_for != prefix or not isinstance(last_key, str):
        raise InvalidOption(f"cursor was issued for prefix {issued_for!r}, not {prefix!r}")
    return last_key

"""The Firestore document statekit keeps per key, and its etag.

One document per key in the collection, its id the key with '/' escaped
(``doc_id``), and these fields::

    pk    the key's partition          key   the key itself
    v     the value as JSON text,  or  n     the value as a native integer (int64)
    etag  a fresh random token per write (so every write changes the document)
    exp   exact expiry, epoch seconds (float), null without a TTL
    expires_at_epoch   the expiry as a Timestamp, for the native TTL policy (or null)

Every field is always written (null where unused), so each write replaces all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from statekit.store import rules
from statekit.store.backend import PreparedOp, PreparedPut

TTL_FIELD = "expires_at_epoch"  # modules/common/settings.py TTL_ATTRIBUTE: the TTL policy's field
MAX_WRITES_PER_COMMIT = 500
MAX_COMMIT_BYTES = 9_000_000  # a Commit request is at most 10 MiB
INT64 = 2**63
_INTEGER = re.compile(r"-?[0-9]+")


def doc_id(key: str) -> str:
    """A document id for ``key``: no '/', never '.', '..' or ``__x__`` (reserved).

    '~' escapes: '~t' is '~', '~s' is '/'; a leading '~p' marks an id that would
    otherwise be reserved. Reversible; the key is also stored in its own field.
    """
    escaped = key.replace("~", "~t").replace("/", "~s")
    if escaped in (".", "..") or (escaped.startswith("__") and escaped.endswith("__")):
        return "~p" + escaped
    return escaped


@dataclass(frozen=True, slots=True)
class Etag:
    """An item's etag: its ``update_time``, its write token, and its expiry.

    ``update_time`` is what the service checks. The token makes etags distinct
    by construction, even where a clock ticks coarser than writes arrive
    (stand-ins with millisecond clocks). The expiry lets ``if_match`` refuse an
    expired item before any call.
    """

    seconds: int
    nanos: int
    token: str
    expires_at: float | None

    def text(self) -> str:
        base = f"{self.seconds}.{self.nanos:09d}.{self.token}"
        return base if self.expires_at is None else f"{base}~{self.expires_at!r}"

    @classmethod
    def parse(cls, etag: str) -> Etag | None:
        head, _, expiry = etag.partition("~")
        parts = head.split(".", 2)
        try:
            seconds, nanos = int(parts[0]), int(parts[1])
            token = parts[2]
            expires_at = float(expiry) if expiry else None
        except (ValueError, IndexError):
            return None
        return cls(seconds, nanos, token, expires_at)

    @classmethod
    def of(cls, update_time: Any, token: str, expires_at: float | None) -> Etag:
        stamp = update_time.timestamp_pb() if hasattr(update_time, "timestamp_pb") else update_time
        return cls(int(stamp.seconds), int(stamp.nanos), token, expires_at)

    def timestamp(self) -> Timestamp:
        return Timestamp(seconds=self.seconds, nanos=self.nanos)


def document_fields(op: PreparedPut) -> dict[str, Any]:
    """Every document has every field (null where unused), so a write replaces all of
    them and what a document holds never depends on its history."""
    key = op.item.key
    data: dict[str, Any] = {
        "pk": rules.partition_of(key),
        "key": key,
        "etag": op.item.etag,
        "v": op.data,
        "n": None,
        "exp": op.item.expires_at,
        TTL_FIELD: None,
    }
    if _INTEGER.fullmatch(op.data) and -INT64 <= int(op.data) < INT64:
        data["v"], data["n"] = None, int(op.data)
    if op.item.expires_at is not None:
        # The TTL policy deletes a document some time after this Timestamp; never before.
        data[TTL_FIELD] = datetime.fromtimestamp(math.ceil(op.item.expires_at), UTC)
    return data


def counter_fields(key: str, value: int, token: str) -> dict[str, Any]:
    return {
        "pk": rules.partition_of(key),
        "key": key,
        "etag": token,
        "v": None,
        "n": value,
        "exp": None,
        TTL_FIELD: None,
    }


def value_of(fields: dict[str, Any]) -> Any:
    text = fields.get("v")
    return fields.get("n") if text is None else rules.decode_value(text)


def is_expired(fields: dict[str, Any], now: float) -> bool:
    return rules.is_expired(fields.get("exp"), now)


def key_of(op: PreparedOp) -> str:
    return op.item.key if isinstance(op, PreparedPut) else op.key


def commit_chunks(ops: list[PreparedPut]) -> Iterator[list[PreparedPut]]:
    """Commits of at most 500 writes and about 9 MB."""
    chunk: list[PreparedPut] = []
    size = 0
    for op in ops:
        op_size = len(op.data) * 4 + 1024  # UTF-8 upper bound, plus fields and name
        if chunk and (len(chunk) == MAX_WRITES_PER_COMMIT or size + op_size > MAX_COMMIT_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(op)
        size += op_size
    if chunk:
        yield chunk

"""The Cosmos DB item statekit keeps per key, and the service limits it is written within.

One item per key::

    {"id": <key, escaped: ids.py>, "pk": <partition>, "key": <key>,
     "v": <JSON text> | null, "n": <integer> | null,
     "exp": <exact expiry, epoch seconds> | null, "ttl": <seconds> | -1}

``n`` holds integer values (within +-2**53, where a JSON number is exact) so that
``increment`` is a native patch ``incr``; every other value is ``v``, the
canonical JSON text. ``ttl`` lets Cosmos DB reclaim the item (whole seconds,
counted from its last write, rounded up so never before ``exp``); every read,
condition and listing filters on the exact ``exp``. The etag is the service's
``_etag``, checked with ``If-Match``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from azure.cosmos.exceptions import CosmosHttpResponseError

from statekit.store import rules
from statekit.store.backend import PreparedPut
from statekit.store.backends.cosmos.ids import key_to_id
from statekit.store.types import Item

MAX_BATCH_OPS = 100  # a transactional batch: at most 100 operations...
MAX_BATCH_BYTES = 1_800_000  # ...and 2 MB of request; keep room for the envelope
MAX_EXACT_INTEGER = 2**53  # JSON numbers are doubles: integers are exact below this
RACE_ATTEMPTS = 8  # bounded loops where an item changes between two calls

_INTEGER = re.compile(r"-?[0-9]+")


def status_of(exc: CosmosHttpResponseError) -> int:
    return int(exc.status_code or 0)


def native_ttl(expires_at: float | None, now: float) -> int:
    """Whole seconds for Cosmos DB's reclaim: never before the exact expiry."""
    if expires_at is None:
        return -1
    return max(1, math.ceil(expires_at - now) + 1)


def live_filter(now: float) -> str:
    """Patch filter predicate: the item has not expired (the service evaluates it).

    Every item statekit writes has ``exp`` (null without a TTL). Written without
    parentheses: cosmosdb-server parses each nested group noticeably slowly.
    """
    return f"FROM c WHERE IS_NULL(c.exp) OR c.exp > {now!r}"


def live_counter_filter(now: float, by: int) -> str:
    """Patch filter predicate: a live native integer (``n``) to which ``by`` adds exactly.

    The sum must stay within +-(2**53-1), or the service would store an inexact double;
    the bound is a constant computed here, so the service only compares.
    """
    if by >= 0:
        room = f"c.n <= {MAX_EXACT_INTEGER - 1 - by}"
    else:
        room = f"c.n >= {-(MAX_EXACT_INTEGER - 1) - by}"
    counter = f"IS_NUMBER(c.n) AND {room}"
    return f"FROM c WHERE {counter} AND IS_NULL(c.exp) OR {counter} AND c.exp > {now!r}"


def value_of(doc: dict[str, Any]) -> Any:
    text = doc.get("v")
    if text is None:
        return doc.get("n")
    return rules.decode_value(text)


def is_expired(doc: dict[str, Any], now: float) -> bool:
    return rules.is_expired(doc.get("exp"), now)


def item_of(doc: dict[str, Any]) -> Item:
    return Item(doc["key"], value_of(doc), doc["_etag"], doc.get("exp"))


def result_etag(result: dict[str, Any]) -> str:
    body = result.get("resourceBody") or {}
    return str(body.get("_etag") or result.get("eTag"))


def document(op: PreparedPut, now: float) -> dict[str, Any]:
    """The item written for ``op``: an integer within +-2**53 as ``n``, else ``v``."""
    key = op.item.key
    number = None
    text: str | None = op.data
    if _INTEGER.fullmatch(op.data) and abs(int(op.data)) < MAX_EXACT_INTEGER:
        number, text = int(op.data), None
    return {
        "id": key_to_id(key),
        "pk": rules.partition_of(key),
        "key": key,
        "v": text,
        "n": number,
        "exp": op.item.expires_at,
        "ttl": native_ttl(op.item.expires_at, now),
    }


def set_ops(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Patch operations that make an existing item hold ``doc``'s value and expiry."""
    return [
        {"op": "set", "path": f"/{name}", "value": doc[name]} for name in ("v", "n", "exp", "ttl")
    ]

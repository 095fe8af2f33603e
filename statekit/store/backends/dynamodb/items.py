"""The DynamoDB item statekit keeps per key, and the expressions that guard its writes.

Item attributes: ``v`` (S, the canonical JSON text) or ``n`` (N, an integer value, kept
native so ``increment`` is one ``ADD``), ``etag`` (S), ``expires_at`` (N, the exact expiry
every read and condition filters on) and ``expires_at_epoch`` (N, whole seconds, the
table's native TTL attribute: DynamoDB deletes expired items lazily, hours or days
later, so it only reclaims storage and never decides what a read returns).
"""

from __future__ import annotations

import math
import re
from typing import Any

from statekit.errors import Conflict, StatekitError
from statekit.store import rules
from statekit.store.backend import PreparedPut, WriteCondition
from statekit.store.types import Item

# Must equal modules/common/settings.py TTL_ATTRIBUTE (the table construct enables
# native TTL on it); tests/conformance/store/test_dynamodb.py checks they agree.
TTL_ATTRIBUTE = "expires_at_epoch"
# An integer JSON text DynamoDB can hold exactly in a number (38 significant digits).
NATIVE_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,37})")

# Every attribute an expression names goes through a placeholder (#e etag, #n n,
# #x expires_at), so none can clash with DynamoDB's reserved words.
LIVE = "(attribute_not_exists(#x) OR #x > :now)"
IF_MATCH = f"#e = :m AND {LIVE}"
IF_ABSENT = "attribute_not_exists(pk) OR #x <= :now"
# Increment in one call when the item is missing or a live integer; the ADD then
# starts from 0 (missing) or adds to the stored number. Anything else fails the
# condition and ALL_OLD tells which case it was. ``#e <> :e``: the SDK resends a
# request whose response was lost; the resend then finds its own etag and fails,
# instead of adding twice.
INCREMENT_IF = f"attribute_not_exists(pk) OR (attribute_exists(#n) AND #e <> :e AND {LIVE})"

Attrs = dict[str, dict[str, Any]]


def number(value: float) -> dict[str, str]:
    return {"N": repr(value)}


def key_attrs(key: str) -> Attrs:
    return {"pk": {"S": rules.partition_of(key)}, "sk": {"S": key}}


def item_attrs(op: PreparedPut) -> Attrs:
    attrs = key_attrs(op.item.key)
    if NATIVE_INT.fullmatch(op.data):
        attrs["n"] = {"N": op.data}
    else:
        attrs["v"] = {"S": op.data}
    attrs["etag"] = {"S": op.item.etag}
    expiry = op.item.expires_at
    if expiry is not None:
        attrs["expires_at"] = number(expiry)
        # Rounded up: native TTL must never remove an item before statekit expires it.
        attrs[TTL_ATTRIBUTE] = {"N": str(math.ceil(expiry))}
    return attrs


def item_of(attrs: Attrs | None, now: float, table: str) -> Item | None:
    """The live item in ``attrs`` (a service response), or None if absent or expired."""
    if not attrs:
        return None
    key = attrs["sk"]["S"]
    expiry = float(attrs["expires_at"]["N"]) if "expires_at" in attrs else None
    if rules.is_expired(expiry, now):
        return None
    try:
        etag = attrs["etag"]["S"]
        value = int(attrs["n"]["N"]) if "n" in attrs else rules.decode_value(attrs["v"]["S"])
    except (KeyError, ValueError):
        raise StatekitError(
            f"item {key!r} in dynamodb table {table!r} was not written by statekit "
            "(it needs 'etag' and 'v' or 'n')"
        ) from None
    return Item(key, value, etag, expiry)


def write_condition(condition: WriteCondition, now: float) -> dict[str, Any]:
    """The ConditionExpression (and its values) of a conditional write, or nothing."""
    if condition.if_match is not None:
        return {
            "ConditionExpression": IF_MATCH,
            "ExpressionAttributeNames": {"#e": "etag", "#x": "expires_at"},
            "ExpressionAttributeValues": {
                ":m": {"S": condition.if_match},
                ":now": number(now),
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    if condition.if_absent:
        return {
            "ConditionExpression": IF_ABSENT,
            "ExpressionAttributeNames": {"#x": "expires_at"},
            "ExpressionAttributeValues": {":now": number(now)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    return {}


def conflict_of(
    key: str, condition: WriteCondition, old: Attrs | None, now: float, table: str
) -> Conflict:
    current = item_of(old, now, table)
    if condition.if_absent:
        rule = "if_absent: the key already exists"
    elif current is None:
        rule = "if_match: the key does not exist"
    else:
        rule = "if_match: the etag no longer matches (the item changed)"
    return Conflict(key, rule, current, current_reported=True)


def etag_of(attrs: Attrs | None) -> str | None:
    return None if not attrs or "etag" not in attrs else str(attrs["etag"]["S"])

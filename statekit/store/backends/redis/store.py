"""Redis store (redis-py): ElastiCache, Azure Cache for Redis, Memorystore, redis-server.

URL: ``redis[s]://[USER@]HOST:PORT/DB[?password_env=VAR | password_secret=ARN][&prefix=P]
[&ca_env=VAR][&cluster=true]`` (parsed by ``statekit.clients.redis``: TLS, password
from the environment or Secrets Manager, short timeouts, bounded backed-off retries).
``cluster=true`` is a Redis Cluster, as ElastiCache Serverless is
(``statekit.clients.redis_cluster``).

Key layout, for key ``K`` in partition ``P`` (the text before K's first ``/``):

* ``<prefix>{P}:i:K``: a hash ``v`` (JSON text), ``e`` (etag), ``x`` (exact expiry,
  only with a TTL), with ``PEXPIREAT`` so Redis reclaims it natively;
* ``<prefix>{P}:idx``: a sorted set of the partition's keys (all score 0), so a
  prefix listing is ``ZRANGEBYLEX`` within one partition, never ``KEYS`` or ``SCAN``.

``{P}`` is a hash tag: a partition's items and index share a cluster slot, so the
scripts that touch several of them stay valid on a cluster, and the pipelines that
span partitions (``get_many``, ``put_many``, ``delete_many``) are split per node by
redis-py's ``ClusterPipeline``. Every script declares every key it
touches (ElastiCache refuses scripts that do not). Every write is one Lua script
(``EVALSHA``, cached by its SHA), so conditions, the index and TTL change together
in one round trip; reads filter on ``x`` so an expired item is never returned even
in the moment before Redis removes it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NoReturn
from urllib.parse import urlsplit

import redis
from redis.exceptions import AuthenticationError, NoScriptError, RedisClusterException, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from statekit.clients.redis import (
    PASSWORD_IN_URL,
    URL_PARAMS,
    client_options,
    explain,
    wants_cluster,
)
from statekit.clients.redis_cluster import LazyCluster, as_redis_error
from statekit.errors import BackendUnavailable, InvalidValue, StatekitError
from statekit.store import rules
from statekit.store.backend import (
    PreparedCheck,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
    condition_failed,
)
from statekit.store.backends.redis import scripts as redis_scripts
from statekit.store.types import ALL_CAPABILITIES, Item, Limits
from statekit.urls import ConnectionURL

DEFAULT_PREFIX = "statekit:"
# Items per pipeline in get_many/put_many/delete_many: one round trip each.
BATCH_CHUNK = 500
MAX_TRANSACTION_OPS = 1000
MAX_VALUE_BYTES = 512 * 1024 * 1024  # Redis's limit for one string (a hash field's value)
# Byte order of UTF-8 is code-point order, and no UTF-8 text holds the byte 0xFF:
# every key starting with the prefix sorts below prefix + b"\xff".
_PAST_PREFIX = b"\xff"

Raw = list[Any]  # a script's reply
# redis-py's cluster client raises RedisClusterException, not a RedisError, when no node
# answers; ``_error`` maps it (``as_redis_error``).
_ERRORS = (RedisError, RedisClusterException)


def _mode(condition: WriteCondition) -> str:
    if condition.if_match is not None:
        return "m"
    return "a" if condition.if_absent else ""


def _expiry_args(expires_at: float | None) -> tuple[str, int | str]:
    if expires_at is None:
        return "", ""
    # Native expiry rounded up to the millisecond: never before statekit's own.
    return repr(expires_at), math.ceil(expires_at * 1000)


class RedisStore(StoreBackend):
    name = "redis"
    capabilities = ALL_CAPABILITIES
    limits = Limits(
        max_value_bytes=MAX_VALUE_BYTES,
        max_transaction_ops=MAX_TRANSACTION_OPS,
        batch_read_chunk=BATCH_CHUNK,
        batch_write_chunk=BATCH_CHUNK,
        max_counter=2**63 - 1,  # HINCRBY: 64-bit signed
        ttl_precision="exact on read (float seconds filtered); native PEXPIREAT (ms) reclaims",
        consistency="strong on the primary (one thread; every write one Lua script)",
        notes=(
            "increments are 64-bit signed integers; durability is the server's "
            "(AOF/RDB, replication) configuration"
        ),
    )

    def __init__(
        self,
        client: redis.Redis | LazyCluster,
        prefix: str = DEFAULT_PREFIX,
        label: str = "redis",
    ):
        self._client = client
        self._cluster = client if isinstance(client, LazyCluster) else None
        self._prefix = prefix
        self._label = label
        self._put = client.register_script(redis_scripts.PUT)
        self._delete = client.register_script(redis_scripts.DELETE)
        self._increment = client.register_script(redis_scripts.INCREMENT)
        self._transact = client.register_script(redis_scripts.TRANSACT)
        self._forget_missing = client.register_script(redis_scripts.FORGET_MISSING)

    @classmethod
    def from_url(cls, url: ConnectionURL) -> RedisStore:
        url.require_known_params(URL_PARAMS)
        if urlsplit(url.raw).password is not None:
            raise url.error(PASSWORD_IN_URL)
        prefix = url.param("prefix", DEFAULT_PREFIX) or ""
        if "{" in prefix or "}" in prefix:
            raise url.error(f"prefix must not contain '{{' or '}}' (hash tags), got {prefix!r}")
        options = client_options(url)
        label = f"{url.scheme}://{options['host']}:{options['port']}"
        if wants_cluster(url):
            return cls(LazyCluster({**options, "decode_responses": True}), prefix, label)
        return cls(redis.Redis(**options, decode_responses=True), prefix, label)

    # -- layout ----------------------------------------------------------------------------
    def _slot(self, key: str) -> str:
        return f"{self._prefix}{{{rules.partition_of(key)}}}:"

    def _keys(self, key: str) -> list[str]:
        slot = self._slot(key)
        return [f"{slot}i:{key}", f"{slot}idx"]

    # -- errors ----------------------------------------------------------------------------
    def _error(self, operation: str, exc: Exception) -> StatekitError:
        exc = as_redis_error(exc)
        if isinstance(exc, AuthenticationError):  # a ConnectionError, but retrying won't help
            return StatekitError(
                f"redis {self._label} refused the credentials during {operation}: {exc}"
            )
        if "certificate verify failed" in str(exc):  # configuration: waiting will not help
            return StatekitError(
                f"redis {self._label}: the server's TLS certificate could not be verified "
                f"during {operation} ({exc}); SSL_CERT_FILE can name the CA bundle to trust"
            )
        if isinstance(exc, RedisConnectionError | RedisTimeoutError):
            return BackendUnavailable(self._label, operation, exc)
        return StatekitError(f"redis {self._label} refused {operation}: {explain(exc)}")

    def _fail(self, operation: str, exc: Exception) -> NoReturn:
        raise self._error(operation, exc) from None

    @staticmethod
    def _current(key: str, reply: Raw) -> Item | None:
        """The item a failed script reported: ``[v, e, x]`` after the status, or absent."""
        if len(reply) < 3:
            return None
        value, etag, expiry = reply[-3:]
        return Item(key, rules.decode_value(value), etag, float(expiry) if expiry else None)

    def _put_args(self, op: PreparedPut, now: float) -> list[Any]:
        exp, exp_ms = _expiry_args(op.item.expires_at)
        cond = op.condition
        return [
            op.item.key,
            _mode(cond),
            cond.if_match or "",
            repr(now),
            op.data,
            op.item.etag,
            exp,
            exp_ms,
        ]

    # -- hooks -----------------------------------------------------------------------------
    def get(self, key: str, now: float) -> Item | None:
        try:
            fields = self._client.hmget(self._keys(key)[0], ("v", "e", "x"))
        except _ERRORS as exc:
            self._fail(f"get {key!r}", exc)
        return _live_item(key, fields, now)

    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        found: dict[str, Item] = {}
        for start in range(0, len(keys), BATCH_CHUNK):
            chunk = keys[start : start + BATCH_CHUNK]
            try:
                pipe = self._client.pipeline(transaction=False)
                for key in chunk:
                    pipe.hmget(self._keys(key)[0], ("v", "e", "x"))
                replies = pipe.execute()
            except _ERRORS as exc:
                self._fail(f"get_many of {len(keys)} keys", exc)
            for key, fields in zip(chunk, replies, strict=True):
                item = _live_item(key, fields, now)
                if item is not None:
                    found[key] = item
        return found

    def put(self, op: PreparedPut, now: float) -> str:
        key = op.item.key
        try:
            reply = self._put(keys=self._keys(key), args=self._put_args(op, now))
        except _ERRORS as exc:
            self._fail(f"put {key!r}", exc)
        if reply[0] != 1:
            raise condition_failed(key, op.condition, self._current(key, reply))
        return op.item.etag

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        args = [key, _mode(condition), condition.if_match or "", repr(now)]
        try:
            reply = self._delete(keys=self._keys(key), args=args)
        except _ERRORS as exc:
            self._fail(f"delete {key!r}", exc)
        if reply[0] != 1:
            raise condition_failed(key, condition, self._current(key, reply))
        return bool(reply[1])

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        try:
            reply = self._increment(keys=self._keys(key), args=[key, by, etag, repr(now)])
        except _ERRORS as exc:
            self._fail(f"increment {key!r}", exc)
        if reply[0] != 1:
            raise InvalidValue(
                key,
                "increment needs an integer value (64-bit signed on Redis); "
                f"the stored value is not one, or the sum overflows ({reply[1]})",
            )
        return int(reply[1])

    def _pipelined_scripts(
        self, operation: str, script: Any, calls: Sequence[tuple[str, list[str], list[Any]]]
    ) -> tuple[dict[str, Raw], dict[str, StatekitError]]:
        """EVALSHA of one script per (key, keys, args), in pipelines of BATCH_CHUNK.

        One round trip per chunk. A server without the script cached (NOSCRIPT) gets it
        loaded and only those calls are sent again. If the server becomes unreachable,
        every key of that chunk and after it is reported failed, none silently dropped.
        """
        replies: dict[str, Raw] = {}
        failed: dict[str, StatekitError] = {}
        for start in range(0, len(calls), BATCH_CHUNK):
            pending = list(calls[start : start + BATCH_CHUNK])
            for _ in range(2):
                try:
                    pipe = self._client.pipeline(transaction=False)
                    for _key, keys, args in pending:
                        # ``execute_command``: a cluster pipeline blocks ``evalsha`` (a
                        # script may span slots); each of these goes to its keys' one slot.
                        route = self._cluster.route(keys[0]) if self._cluster else {}
                        pipe.execute_command(
                            "EVALSHA", script.sha, len(keys), *keys, *args, **route
                        )
                    results = pipe.execute(raise_on_error=False)
                except _ERRORS as exc:
                    error = self._error(operation, exc)
                    for key, _, _ in calls[start:]:
                        failed[key] = error
                    return replies, failed
                missing = []
                for call, result in zip(pending, results, strict=True):
                    if isinstance(result, NoScriptError):
                        missing.append(call)
                    elif isinstance(result, Exception):
                        failed[call[0]] = StatekitError(
                            f"redis {self._label} refused {operation} of {call[0]!r}: {result}"
                        )
                    else:
                        replies[call[0]] = result
                if not missing:
                    break
                try:
                    self._client.script_load(script.script)
                except _ERRORS as exc:
                    self._fail(operation, exc)
                pending = missing
        return replies, failed

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError]:
        calls = [(op.item.key, self._keys(op.item.key), self._put_args(op, now)) for op in ops]
        _, failed = self._pipelined_scripts("put_many", self._put, calls)
        return failed

    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, StatekitError]:
        calls = [(key, self._keys(key), [key, "", "", repr(now)]) for key in keys]
        _, failed = self._pipelined_scripts("delete_many", self._delete, calls)
        return failed

    def transact(self, ops: Sequence[PreparedOp], now: float) -> list[str | None]:
        keys: list[str] = []
        args: list[Any] = [repr(now)]
        for op in ops:
            if isinstance(op, PreparedPut):
                key = op.item.key
                exp, exp_ms = _expiry_args(op.item.expires_at)
                body: list[Any] = ["P", key, _mode(op.condition), op.condition.if_match or ""]
                body += [op.data, op.item.etag, exp, exp_ms]
            else:
                key = op.key
                kind = "C" if isinstance(op, PreparedCheck) else "D"
                body = [kind, key, _mode(op.condition), op.condition.if_match or ""]
                body += ["", "", "", ""]
            if not keys:
                keys.append(self._keys(key)[1])  # one partition: one index
            keys.append(self._keys(key)[0])
            args += body
        try:
            reply = self._transact(keys=keys, args=args)
        except _ERRORS as exc:
            self._fail(f"transact of {len(ops)} ops", exc)
        if reply[0] != 1:
            op = ops[int(reply[1]) - 1]
            key = op.item.key if isinstance(op, PreparedPut) else op.key
            raise condition_failed(key, op.condition, self._current(key, reply[2:]))
        return [op.item.etag if isinstance(op, PreparedPut) else None for op in ops]

    def list(self, prefix: str, after: str | None, limit: int, now: float) -> list[Item]:
        # Two round trips a page: the index range, then the items' hashes in one pipeline.
        # Index members whose hash Redis already expired are dropped here (lazy cleanup);
        # the loop goes on past them and past expired items until the page is full.
        encoded = prefix.encode("utf-8")
        low = b"[" + encoded
        if after is not None and after >= prefix:
            low = b"(" + after.encode("utf-8")
        high = b"(" + encoded + _PAST_PREFIX
        slot = self._slot(prefix)
        index = f"{slot}idx"
        items: list[Item] = []
        try:
            while len(items) < limit:
                wanted = limit - len(items)
                members: list[str] = self._client.zrangebylex(index, low, high, 0, wanted)  # type: ignore[assignment]
                if not members:
                    break
                pipe = self._client.pipeline(transaction=False)
                for member in members:
                    pipe.hmget(f"{slot}i:{member}", ("v", "e", "x"))
                missing = []
                for member, fields in zip(members, pipe.execute(), strict=True):
                    if fields[1] is None:
                        missing.append(member)
                        continue
                    item = _live_item(member, fields, now)
                    if item is not None:
                        items.append(item)
                if missing:
                    keys = [index, *(f"{slot}i:{member}" for member in missing)]
                    self._forget_missing(keys=keys, args=missing)
                if len(members) < wanted:
                    break
                low = b"(" + members[-1].encode("utf-8")
        except _ERRORS as exc:
            self._fail(f"list {prefix!r}", exc)
        return items

    def close(self) -> None:
        self._client.close()


def _live_item(key: str, fields: Sequence[Any], now: float) -> Item | None:
    value, etag, expiry_text = fields
    if etag is None or value is None:
        return None
    expiry = float(expiry_text) if expiry_text else None
    if expiry is not None and expiry <= now:
        return None
    return Item(key, rules.decode_value(value), etag, expiry)

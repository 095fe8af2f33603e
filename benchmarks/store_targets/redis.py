"""Redis on redis-server: statekit's RedisStore against redis-py sending the same requests.

Redis has no compare-and-set, TTL-aware increment or listing index of its own, so
the raw side runs the same Lua scripts (by EVALSHA, on its own keys) that statekit
sends: the ratio is what statekit's Python layer adds, not what the scripts cost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis

import statekit
from benchmarks.store_targets import RoundTrips, count_redis_round_trips
from statekit.clients.redis import client_options
from statekit.store.backends.redis import scripts as redis_scripts
from statekit.store.rules import new_etag
from statekit.urls import parse_url
from tests.standins import redis as redis_module

_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class RedisTarget:
    name = "redis"

    def __init__(self, workdir: Path) -> None:
        self._server = redis_module.create(workdir / "redis")
        self._server.start()
        self.round_trips = RoundTrips()
        self.where = f"redis-server 7 (Debian), redis-py {redis.__version__}"
        self.store = statekit.open_store(f"{self._server.url}?prefix=bench:")
        count_redis_round_trips(self.store.backend._client, self.round_trips)  # type: ignore[attr-defined]
        # The raw side: the same redis-py options (timeouts, retry, protocol), no statekit.
        options = client_options(parse_url(self._server.url, allowed_schemes=["redis"]))
        self.client = redis.Redis(**options, decode_responses=True)
        count_redis_round_trips(self.client, self.round_trips)
        self._put = self.client.register_script(redis_scripts.PUT)
        self._increment = self.client.register_script(redis_scripts.INCREMENT)

    @staticmethod
    def _keys(key: str) -> list[str]:
        partition = key.partition("/")[0]
        return [f"raw:{{{partition}}}:i:{key}", f"raw:{{{partition}}}:idx"]

    def raw_get(self, key: str) -> Any:
        value, _etag, expiry = self.client.hmget(self._keys(key)[0], ("v", "e", "x"))
        if value is None or (expiry and float(expiry) <= time.time()):
            return None
        return json.loads(value)

    def _put_args(self, key: str, value: Any, mode: str, etag: str, new: str) -> list[Any]:
        return [key, mode, etag, repr(time.time()), _dumps(value), new, "", ""]

    def raw_put(self, key: str, value: Any) -> str:
        etag = new_etag()
        self._put(keys=self._keys(key), args=self._put_args(key, value, "", "", etag))
        return etag

    def raw_conditional_put(self, key: str, value: Any, etag: str) -> str:
        new = new_etag()
        reply = self._put(keys=self._keys(key), args=self._put_args(key, value, "m", etag, new))
        if reply[0] != 1:
            raise RuntimeError(f"raw compare-and-set of {key!r} failed")
        return new

    def raw_increment(self, key: str) -> int:
        reply = self._increment(keys=self._keys(key), args=[key, 1, new_etag(), repr(time.time())])
        return int(reply[1])

    def raw_put_many(self, items: Mapping[str, Any]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key, value in items.items():
            keys = self._keys(key)
            pipe.evalsha(self._put.sha, 2, *keys, *self._put_args(key, value, "", "", new_etag()))
        pipe.execute()

    def close(self) -> None:
        self.store.close()
        self.client.close()
        self._server.stop()


def make(workdir: Path) -> RedisTarget:
    return RedisTarget(workdir)

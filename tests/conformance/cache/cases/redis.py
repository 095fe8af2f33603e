"""Redis cache on redis-server 7 (the session's shared server)."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.registry import Case
from tests.standins.base import StandInPool
from tests.standins.redis import RedisServer


def redis_url(standins: StandInPool, workdir: Path | None = None) -> str:
    server = standins.get("redis")
    assert isinstance(server, RedisServer)
    return server.url


CASE = Case(name="redis", url=redis_url, needs_module="redis")

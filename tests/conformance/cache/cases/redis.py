"""Redis cache on redis-server 7 (the session's shared server)."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.registry import Case, Restartable
from tests.standins import redis as redis_standin
from tests.standins.base import StandInPool
from tests.standins.redis import RedisServer


def redis_url(standins: StandInPool, workdir: Path | None = None) -> str:
    server = standins.get("redis")
    assert isinstance(server, RedisServer)
    return server.url


def _restartable(workdir: Path) -> Restartable:
    server = redis_standin.create(workdir)  # nothing persisted: a cache may lose everything
    server.start()
    return Restartable(standin=server, url=server.url)


CASE = Case(name="redis", url=redis_url, restartable=_restartable, needs_module="redis")

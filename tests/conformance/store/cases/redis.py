"""Redis on redis-server 7: the suite's keys under their own prefix on the shared server."""

from __future__ import annotations

from pathlib import Path

from statekit import Capability
from tests.conformance.registry import Case, Restartable
from tests.standins.base import StandInPool
from tests.standins.redis import DurableRedis


def redis_url(standins: StandInPool, workdir: Path) -> str:
    server = standins.get("redis")
    return f"redis://127.0.0.1:{server.port}/0?prefix=conformance-store:"


def _restartable(workdir: Path) -> Restartable:
    # Append-only file, fsync always: the restart sees what was acknowledged before the stop.
    server = DurableRedis(workdir)
    server.start()
    return Restartable(standin=server, url=server.url + "?prefix=faults:", keeps_data=True)


CASE = Case(
    name="redis",
    url=redis_url,
    capabilities=frozenset(Capability),
    restartable=_restartable,
    needs_module="redis",
)

"""Redis on redis-server 7: the suite's keys under their own prefix on the shared server."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.registry import Case
from tests.standins.base import StandInPool


def redis_url(standins: StandInPool, workdir: Path) -> str:
    server = standins.get("redis")
    return f"redis://127.0.0.1:{server.port}/0?prefix=conformance-store:"


CASE = Case(name="redis", url=redis_url, needs_module="redis")

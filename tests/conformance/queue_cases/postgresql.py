"""PostgreSQL queue tables on a throwaway cluster; each test gets its own queue name."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.registry import Case
from tests.standins.base import StandInPool
from tests.standins.postgresql import PostgreSQLServer


def postgresql_queue_url(standins: StandInPool, workdir: Path) -> str:
    server = standins.get("postgresql")
    assert isinstance(server, PostgreSQLServer)
    return server.url(table="conformance_queue", queue="{queue}")


CASE = Case(name="postgresql", url=postgresql_queue_url, needs_module="psycopg")

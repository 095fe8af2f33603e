"""PostgreSQL on a throwaway cluster (Debian's postgresql binaries, initdb on a free port)."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.registry import Case
from tests.standins.base import StandInPool
from tests.standins.postgresql import PostgreSQLServer


def postgresql_url(standins: StandInPool, workdir: Path) -> str:
    server = standins.get("postgresql")
    assert isinstance(server, PostgreSQLServer)
    return server.url(table="conformance_items")


CASE = Case(name="postgresql", url=postgresql_url, needs_module="psycopg")

"""PostgreSQL on a throwaway cluster (Debian's postgresql binaries, initdb on a free port)."""

from __future__ import annotations

from pathlib import Path

from statekit import Capability
from tests.conformance.registry import Case, Restartable
from tests.standins.base import StandInPool
from tests.standins.postgresql import PostgreSQLServer


def postgresql_url(standins: StandInPool, workdir: Path) -> str:
    server = standins.get("postgresql")
    assert isinstance(server, PostgreSQLServer)
    return server.url(table="conformance_items")


def _restartable(workdir: Path) -> Restartable:
    # A cluster of the test's own; a fast shutdown cuts every session, the data stays.
    server = PostgreSQLServer(workdir)
    server.start()
    return Restartable(standin=server, url=server.url(table="faults", timeout="3"), keeps_data=True)


CASE = Case(
    name="postgresql",
    url=postgresql_url,
    capabilities=frozenset(Capability),
    restartable=_restartable,
    needs_module="psycopg",
)

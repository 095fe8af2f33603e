"""PostgreSQL queue tables on a throwaway cluster; each test gets its own queue name."""

from __future__ import annotations

from pathlib import Path

from statekit.queue import QueueCapability
from tests.conformance.registry import Case, Restartable
from tests.standins.base import StandInPool
from tests.standins.postgresql import PostgreSQLServer


def postgresql_queue_url(standins: StandInPool, workdir: Path) -> str:
    server = standins.get("postgresql")
    assert isinstance(server, PostgreSQLServer)
    return server.url(table="conformance_queue", queue="{queue}")


def _restartable(workdir: Path) -> Restartable:
    server = PostgreSQLServer(workdir)
    server.start()
    return Restartable(standin=server, url=server.url(queue="faults", timeout="3"), keeps_data=True)


CASE = Case(
    name="postgresql",
    url=postgresql_queue_url,
    capabilities=frozenset(QueueCapability),
    restartable=_restartable,
    needs_module="psycopg",
)

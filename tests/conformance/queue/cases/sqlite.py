"""SQLite queues: a fresh file per session; each test gets its own queue name in it."""

from statekit.queue import QueueCapability
from tests.conformance.registry import Case

CASE = Case(
    name="sqlite",
    url=lambda standins, workdir: f"sqlite://{workdir / 'queue.db'}?queue={{queue}}",
    capabilities=frozenset(QueueCapability),
)

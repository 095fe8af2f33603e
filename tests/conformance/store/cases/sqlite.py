"""SQLite, the embedded default: a fresh file per session, as a user gets it."""

from statekit import Capability
from tests.conformance.registry import Case

CASE = Case(
    name="sqlite",
    url=lambda standins, workdir: f"sqlite://{workdir / 'store.db'}",
    capabilities=frozenset(Capability),
)

"""The in-process store: no server, nothing to stop."""

from statekit import Capability
from tests.conformance.registry import Case

CASE = Case(
    name="memory",
    url=lambda standins, workdir: "memory://conformance",
    capabilities=frozenset(Capability),
)

"""The in-process LRU cache: no server."""

from tests.conformance.registry import Case

CASE = Case(name="memory", url=lambda standins, workdir: "memory://")

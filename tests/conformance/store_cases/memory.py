from tests.conformance.registry import Case

CASE = Case(name="memory", url=lambda standins, workdir: "memory://conformance")

from tests.conformance.registry import Case

# A fresh file per session; each test gets its own queue name in it ({queue}).
CASE = Case(
    name="sqlite", url=lambda standins, workdir: f"sqlite://{workdir / 'queue.db'}?queue={{queue}}"
)

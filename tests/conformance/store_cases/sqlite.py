from tests.conformance.registry import Case

# A fresh file per session: the embedded default as a user gets it.
CASE = Case(name="sqlite", url=lambda standins, workdir: f"sqlite://{workdir / 'store.db'}")

"""Real local servers that speak each cloud service's wire protocol (see EMULATORS.md).

One module per service, each with ``create(workdir) -> StandIn``. The session
fixture ``standins`` (tests/conftest.py) starts one on first use, on a free
port of 127.0.0.1, and stops it when the session ends.
"""

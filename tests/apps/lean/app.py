"""One HTTP function, no queue consumer, no workflow."""

from __future__ import annotations

from statekit.app import App, Http, Request, Response


def ping(request: Request) -> Response:
    return Response(200, {"pong": request.path})


APP = App("lean", code=["lean"], functions=[Http("ping", "lean.app:ping")])

"""Portable handlers: no cloud SDK, no per-cloud code."""

from __future__ import annotations

from statekit.app import Request, Response, activity
from statekit.queue import Message


def web(request: Request) -> Response:
    return Response(200, {"path": request.path})


def mail(message: Message) -> None:
    if not message.body:
        raise ValueError("empty message")


def sweep() -> None:
    return None


@activity("issue")
def issue(data: dict[str, object]) -> dict[str, object]:
    return {"ticket": f"t-{data.get('order')}"}

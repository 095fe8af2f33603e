"""The portable HTTP call: every cloud's request becomes a ``Request``, a ``Response`` goes back.

An HTTP handler is ``(Request) -> Response`` and serves every path of its
function; the runtime adapters (statekit.runtime) translate API Gateway v2 /
Function URL events, Azure HTTP triggers and Cloud Functions requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from statekit.errors import StatekitError

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
BYTES_TYPE = "application/octet-stream"


class BadRequest(StatekitError, ValueError):
    """The request is malformed; the runtime answers 400 with this message."""


@dataclass(frozen=True)
class Request:
    """One HTTP request, read-only. Header names are lower case; the body is bytes."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    correlation_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        object.__setattr__(self, "path", self.path or "/")
        object.__setattr__(
            self, "headers", {str(k).lower(): str(v) for k, v in self.headers.items()}
        )
        object.__setattr__(self, "query", {str(k): str(v) for k, v in self.query.items()})
        body: Any = self.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode("utf-8")
        object.__setattr__(self, "body", bytes(body))

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"request body: not UTF-8 text ({exc.reason})") from None

    def json(self) -> Any:
        """The body as JSON; ``BadRequest`` naming the problem when it is empty or not JSON."""
        if not self.body:
            raise BadRequest("request body: expected JSON, got nothing")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"request body: not valid JSON ({exc})") from None


@dataclass
class Response:
    """``status``, and a body sent as JSON unless it is ``bytes`` or ``str`` (sent as is)."""

    status: int
    body: Any = None
    headers: dict[str, str] | None = None

    def encode(self) -> tuple[bytes, dict[str, str]]:
        """The body's bytes and the headers to send (lower-case names, a content-type set)."""
        headers = {k.lower(): v for k, v in (self.headers or {}).items()}
        if isinstance(self.body, bytes):
            data, kind = self.body, BYTES_TYPE
        elif isinstance(self.body, str):
            data, kind = self.body.encode("utf-8"), TEXT_TYPE
        elif self.body is None and self.status in (204, 304):
            data, kind = b"", JSON_TYPE
        else:
            data, kind = json.dumps(self.body, default=str).encode("utf-8"), JSON_TYPE
        headers.setdefault("content-type", kind)
        return data, headers

    def json(self) -> Any:
        """The body as a JSON value (tests and the dev server read it)."""
        data, _ = self.encode()
        return json.loads(data) if data else None

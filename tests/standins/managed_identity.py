"""The App Service managed identity endpoint, an HTTP server on 127.0.0.1.

azure-identity's ``ManagedIdentityCredential`` talks to it when ``IDENTITY_ENDPOINT``
and ``IDENTITY_HEADER`` are set (``client_env``), as on Azure Functions: ``GET
IDENTITY_ENDPOINT?api-version=2019-08-01&resource=R&client_id=C`` with the header
``X-IDENTITY-HEADER``, answered with JSON ``access_token``, ``expires_on`` (epoch
seconds, as text), ``resource``, ``token_type``, ``client_id`` (App Service's "REST
endpoint reference"; msal's ``_obtain_token_on_app_service`` reads it). Errors are
400 with ``statusCode`` and ``message``, as App Service answers an unknown identity.

Deviation: tokens are opaque random strings, not signed JWTs (Redis never parses them
here: the tests' redis-server takes the token as an ACL password).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_VERSION = "2019-08-01"
PATH = "/msi/token"


class ManagedIdentityEndpoint:
    """Issues a new token per request for the identities it knows (client id -> tokens)."""

    def __init__(self, client_ids: set[str], *, lifetime_seconds: int = 86_400) -> None:
        self.client_ids = client_ids
        self.lifetime_seconds = lifetime_seconds
        self.header = secrets.token_hex(16)
        self.requests: list[dict[str, str]] = []  # every request's query, in order
        self.issued: list[str] = []
        self._upcoming: list[str] = []  # tokens decided before they are asked for
        self._lock = threading.Lock()  # the server answers on threads
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def _new_token() -> str:
        return f"entra-token-{secrets.token_urlsafe(24)}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH}"

    def client_env(self) -> dict[str, str]:
        return {"IDENTITY_ENDPOINT": self.url, "IDENTITY_HEADER": self.header}

    def upcoming(self, index: int = 0) -> str:
        """The token the ``index``-th next successful request gets (0: the next one), so a
        test can make Redis take it before any client asks."""
        with self._lock:
            while len(self._upcoming) <= index:
                self._upcoming.append(self._new_token())
            return self._upcoming[index]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, query: dict[str, str], header: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(query)
            problem = self._problem(query, header)
            if problem:
                return 400, {"statusCode": 400, "message": problem}
            token = self._upcoming.pop(0) if self._upcoming else self._new_token()
            self.issued.append(token)
        return 200, {
            "access_token": token,
            "expires_on": str(int(time.time()) + self.lifetime_seconds),
            "resource": query["resource"],
            "token_type": "Bearer",
            "client_id": query["client_id"],
        }

    def _problem(self, query: dict[str, str], header: str | None) -> str | None:
        if header != self.header:
            return "X-IDENTITY-HEADER is missing or wrong"
        if query.get("api-version") != API_VERSION:
            return f"api-version must be {API_VERSION}"
        if not query.get("resource"):
            return "resource is required"
        if query.get("client_id") not in self.client_ids:
            return "Unable to load the proper Managed Identity."
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != PATH:
                    status, body = 404, {"statusCode": 404, "message": "not found"}
                else:
                    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                    status, body = endpoint.answer(query, self.headers.get("X-IDENTITY-HEADER"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest shows failures, not every request

        return Handler

"""``statekit dev`` with several HTTP functions: ``/<name>/...`` goes to function ``<name>``."""

from __future__ import annotations

import json
import urllib.request

from statekit.app import App, Http
from statekit.dev import DevServer


def get(url: str) -> tuple[int, dict[str, str], object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), json.loads(response.read())


def test_paths_are_routed_to_the_named_http_function(package: str) -> None:
    app = App(
        "routes",
        code=[package],
        functions=[Http("api", f"{package}.api:handle"), Http("admin", f"{package}.api:handle")],
    )
    server = DevServer(app, port=0, worker=False).start()
    try:
        assert get(server.url + "/admin/users")[2] == {"path": "/users"}
        assert get(server.url + "/api/x")[2] == {"path": "/x"}
        status, headers, body = get(server.url + "/other/place")  # no such function: the first
        assert (status, body) == (200, {"path": "/other/place"})
        assert len(headers["x-correlation-id"]) == 32  # made at the edge, sent back
        assert get(server.url + "/_statekit/app")[2] == {
            "app": "routes",
            "functions": [{"name": "api", "kind": "http"}, {"name": "admin", "kind": "http"}],
            "workflows": [],
        }
    finally:
        server.stop()

"""The example App's scenario over real HTTP on ``statekit dev --app handlers.app:APP``,
all on the embedded default."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.app import get_app
from statekit.dev import DevServer
from tests.handlers.scenario import run_scenario


class DevPlatform:
    def __init__(self, server: DevServer) -> None:
        self.server = server
        assert server.queue is not None
        self.queue = server.queue

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = (
            None if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
        )
        request = urllib.request.Request(
            self.server.url + path, data=data, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def deliver_events(self) -> None:
        pass  # the dev server's worker thread consumes on its own

    def send_event(self, body: str) -> None:
        self.queue.send(json.loads(body))

    def dead_letters(self) -> list[Any]:
        return [m.body for m in self.queue.dead_letters(10, visibility=1)]


@pytest.fixture
def dev_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DevServer]:
    monkeypatch.setenv("STATEKIT_STORE_URL", f"sqlite://{tmp_path / 'store.db'}")
    monkeypatch.setenv("STATEKIT_QUEUE_URL", f"sqlite://{tmp_path / 'queue.db'}?max_attempts=2")
    monkeypatch.setenv("STATEKIT_WORKFLOW_URL", "local://")
    get_app.cache_clear()
    server = DevServer("handlers.app:APP", port=0).start()
    yield server
    server.stop()
    get_app.cache_clear()


def test_the_scenario_over_http_on_statekit_dev(dev_server: DevServer) -> None:
    run_scenario(DevPlatform(dev_server))


def test_errors_are_json_with_a_status_never_a_trace(dev_server: DevServer) -> None:
    platform = DevPlatform(dev_server)
    status, body = platform.call("POST", "/orders", {"cart_id": "x"})
    assert status == 400 and "Idempotency-Key" in body["message"]
    status, body = platform.call("GET", "/nowhere")
    assert status == 404 and body["error"] == "not_found"
    status, body = platform.call("PUT", "/carts/a", {})
    assert status == 405 and "GET" in body["message"]

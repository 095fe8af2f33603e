"""Fixtures of the App tests: a throwaway importable package with handlers and an activity."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from statekit.app import App, Http, QueueConsumer, Schedule
from statekit.workflows import Step, Workflow


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh importable package (a unique name: modules stay cached across tests)."""
    name = f"skapp_{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "api.py").write_text(
        textwrap.dedent(
            """
            from statekit.app import Request, Response, activity

            def handle(request: Request) -> Response:
                return Response(200, {"path": request.path})

            def consume(message): pass

            def nightly(): pass

            @activity("double")
            def double(value):
                return value * 2

            NOT_CALLABLE = 3
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def make_app(package: str, **overrides: Any) -> App:
    """A valid App over ``package``; ``overrides`` replace constructor arguments."""
    workflow = Workflow("twice", [Step("double", activity="double")], activities=["double"])
    options: dict[str, Any] = {
        "code": [package],
        "functions": [
            Http("api", f"{package}.api:handle"),
            QueueConsumer("emails", f"{package}.api:consume", batch_size=5),
            Schedule("nightly", f"{package}.api:nightly", cron="0 3 * * *"),
        ],
        "workflows": [workflow],
    }
    options.update(overrides)
    name = options.pop("name", "booking")
    return App(name, **options)

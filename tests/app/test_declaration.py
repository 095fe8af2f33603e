"""App declarations: loading, resolving handlers and activities, choosing the App."""

from __future__ import annotations

from pathlib import Path

import pytest

from statekit.app import (
    App,
    AppError,
    Request,
    Response,
    code_fingerprint,
    load_app,
    resolve_app,
)
from statekit.workflows import Step, Workflow
from tests.app.conftest import make_app


def test_a_valid_app_resolves_its_handlers_and_activities(package: str) -> None:
    app = make_app(package).validate()
    assert [f.kind for f in app.functions] == ["http", "queue", "schedule"]
    assert app.activities == "activities"
    assert app.function_names() == ["api", "emails", "nightly", "activities"]
    response = app.handler("api")(Request("get", "/x"))
    assert response.json() == {"path": "/x"}
    assert app.activity_handler("double")(4) == 8
    assert app.run_activity({"activity": "double", "input": 5}) == 10
    assert app.handler("activities")({"activity": "double", "input": 1}) == 2
    assert app.queue_consumers[0].batch_size == 5
    assert app.schedules[0].eventbridge_cron == "cron(0 3 * * ? *)"


def test_load_app_imports_and_validates(package: str, tmp_path: Path) -> None:
    (tmp_path / package / "app.py").write_text(
        f"from statekit.app import App, Http\n"
        f"APP = App('shop', code=['{package}'], functions=[Http('api', '{package}.api:handle')])\n"
        f"OTHER = 3\n"
    )
    app = load_app(f"{package}.app:APP")
    assert app.name == "shop"
    with pytest.raises(AppError, match=r"names a int, not a statekit.app.App"):
        load_app(f"{package}.app:OTHER")
    with pytest.raises(AppError, match=rf"app '{package}.app:MISSING' does not resolve"):
        load_app(f"{package}.app:MISSING")
    with pytest.raises(AppError, match=r"app 'nowhere_at_all.app:APP': no module 'nowhere_at_all"):
        load_app("nowhere_at_all.app:APP")
    with pytest.raises(AppError, match=r"expected 'package.module:NAME'"):
        load_app("booking/app.py")


def test_an_activity_mapping_on_the_app_wins(package: str) -> None:
    app = make_app(package, activities={"double": f"{package}.api:handle"}).validate()
    assert app.activity_handler("double") is app.handler("api")


def test_workflow_implementations_are_activities_too(package: str) -> None:
    workflow = Workflow("inc", [Step("inc", activity="inc")], activities={"inc": lambda v: v + 1})
    app = make_app(package, workflows=[workflow]).validate()
    assert app.run_activity({"activity": "inc", "input": 1}) == 2


def test_another_apps_activity_is_not_borrowed(package: str) -> None:
    # "double" is registered by the package, but this App ships other code only.
    workflow = Workflow("twice", [Step("double", activity="double")], activities=["double"])
    app = App("other", code=["statekit"], workflows=[workflow])
    with pytest.raises(AppError, match=r"workflows\[0\] 'twice': activity 'double' is not defined"):
        app.validate()


def test_resolve_app_prefers_the_variable_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STATEKIT_APP", raising=False)
    assert resolve_app() == "handlers.app:APP"
    assert resolve_app("booking.app:APP") == "booking.app:APP"
    monkeypatch.setenv("STATEKIT_APP", "mine.app:APP")
    assert resolve_app("booking.app:APP") == "mine.app:APP"


def test_request_and_response_are_portable() -> None:
    request = Request(
        "post", "/a", query={"q": "1"}, headers={"Content-Type": "x"}, body=b'{"a": 1}'
    )
    assert request.method == "POST"
    assert request.header("content-type") == "x"
    assert request.headers == {"content-type": "x"}
    assert request.json() == {"a": 1}
    assert Response(201, {"ok": True}).encode() == (
        b'{"ok": true}',
        {"content-type": "application/json"},
    )
    assert Response(200, "hi").encode() == (b"hi", {"content-type": "text/plain; charset=utf-8"})
    assert Response(200, b"\x00", {"Content-Type": "image/png"}).encode() == (
        b"\x00",
        {"content-type": "image/png"},
    )


def test_the_code_fingerprint_follows_the_code(package: str, tmp_path: Path) -> None:
    app = make_app(package)
    before = code_fingerprint(app)
    assert before == code_fingerprint(app)
    (tmp_path / package / "api.py").write_text("# changed\n")
    assert code_fingerprint(app) != before

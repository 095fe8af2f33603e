"""Every bad declaration the issue lists gets an AppError naming the field, before anything runs."""

from __future__ import annotations

import pytest

from statekit.app import App, AppError, Http, QueueConsumer, Schedule, load_app
from statekit.workflows import Step, Workflow
from tests.app.conftest import make_app


def error_of(app: App) -> str:
    with pytest.raises(AppError) as caught:
        app.validate()
    return str(caught.value)


def test_a_wrong_app_path(package: str) -> None:
    with pytest.raises(
        AppError, match=rf"app '{package}.nothing:APP': no module '{package}.nothing'"
    ):
        load_app(f"{package}.nothing:APP")
    with pytest.raises(AppError, match=r"app 'booking': expected 'package.module:NAME'"):
        load_app("booking")


def test_a_handler_that_does_not_resolve(package: str) -> None:
    functions = [
        Http("api", f"{package}.api:handle"),
        QueueConsumer("emails", f"{package}.emails:handle"),
    ]
    assert error_of(make_app(package, functions=functions)) == (
        f"functions[1] 'emails': handler '{package}.emails:handle' does not resolve: "
        f"no module '{package}.emails'"
    )
    functions = [Http("api", f"{package}.api:handel")]
    assert error_of(make_app(package, functions=functions)) == (
        f"functions[0] 'api': handler '{package}.api:handel' does not resolve: "
        f"module '{package}.api' has no 'handel'"
    )
    functions = [Http("api", f"{package}.api:NOT_CALLABLE")]
    assert "names a int, not a function" in error_of(make_app(package, functions=functions))
    functions = [Http("api", f"{package}/api.py")]
    assert error_of(make_app(package, functions=functions)) == (
        f"functions[0] 'api': handler '{package}/api.py': expected 'package.module:function'"
    )


def test_a_duplicate_function_name(package: str) -> None:
    functions = [
        Http("api", f"{package}.api:handle"),
        Schedule("api", f"{package}.api:nightly", cron="0 3 * * *"),
    ]
    assert error_of(make_app(package, functions=functions)) == (
        "functions[1] 'api': duplicate function name (also functions[0])"
    )


def test_a_cron_the_clouds_cannot_all_express(package: str) -> None:
    functions = [Schedule("nightly", f"{package}.api:nightly", cron="0 0 3 * * *")]
    message = error_of(make_app(package, functions=functions))
    assert message.startswith("functions[0] 'nightly': cron: '0 0 3 * * *' has 6 fields")
    functions = [Schedule("nightly", f"{package}.api:nightly", cron="0 3 L * *")]
    assert "'L' (last)" in error_of(make_app(package, functions=functions))


def test_a_workflow_whose_activity_is_not_defined(package: str) -> None:
    workflow = Workflow(
        "group_approval", [Step("notify", activity="notify_group")], activities=["notify_group"]
    )
    assert error_of(make_app(package, workflows=[workflow])).startswith(
        "workflows[0] 'group_approval': activity 'notify_group' is not defined"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Booking"}, "App name 'Booking': expected a lower-case letter"),
        ({"name": "a-very-long-app-name-indeed"}, "App name 'a-very-long-app-name-indeed'"),
        ({"code": []}, "code: name at least one package"),
        ({"code": ["my.pkg"]}, "code[0] 'my.pkg': expected a top-level package name"),
        ({"code": ["no_such_package_here"]}, "code[0] 'no_such_package_here': no such package"),
        ({"functions": [], "workflows": []}, "declares no functions and no workflows"),
        ({"functions": ["api"]}, "functions[0]: expected Http, QueueConsumer or Schedule"),
        ({"workflows": ["saga"]}, "workflows[0]: expected a statekit.workflows.Workflow"),
    ],
)
def test_app_level_fields(package: str, overrides: dict[str, object], message: str) -> None:
    assert message in error_of(make_app(package, **overrides))


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (Http("API", "{p}.api:handle"), "functions[0] 'API': name 'API': expected a lower-case"),
        (Http("activities", "{p}.api:handle"), "the name 'activities' is reserved"),
        (
            Http("api", "{p}.api:handle", memory_mb=64),
            "memory_mb 64: expected a whole number from 128",
        ),
        (Http("api", "{p}.api:handle", timeout_s=3600), "timeout_s 3600: expected a whole number"),
        (Http("api", "{p}.api:handle", public="yes"), "public 'yes': expected True or False"),  # type: ignore[arg-type]
        (
            Http("api", "{p}.api:handle", permissions=("send_sms",)),
            "permissions: unknown permission 'send_sms' (known: send_email)",
        ),
        (
            Http("api", "{p}.api:handle", permissions="send_email"),  # type: ignore[arg-type]
            "expected a tuple of names",
        ),
        (QueueConsumer("emails", "{p}.api:consume", batch_size=50), "batch_size 50"),
    ],
)
def test_function_fields(package: str, function: Http | QueueConsumer, message: str) -> None:
    import dataclasses

    function = dataclasses.replace(function, handler=function.handler.format(p=package))
    assert message in error_of(make_app(package, functions=[function]))


def test_a_workflow_named_like_a_function(package: str) -> None:
    workflow = Workflow("nightly", [Step("double", activity="double")], activities=["double"])
    assert "workflows[0] 'nightly': also the name of functions[2]" in error_of(
        make_app(package, workflows=[workflow])
    )

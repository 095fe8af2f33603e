"""The runtime's shared dispatch through the AWS adapter (no SDK involved: events are dicts).

HTTP payload formats 2.0 and 1.0, binary bodies both ways, the error answers,
SQS partial batch failures and the correlation id kept across them.
"""

from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from statekit.runtime import aws


@pytest.fixture
def app_spec(package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / package / "web.py").write_text(
        textwrap.dedent(
            """
            from statekit.app import App, BadRequest, Http, QueueConsumer, Response
            from statekit.app import current_correlation_id

            SEEN = []

            def handle(request):
                if request.path == "/bytes":
                    return Response(200, b"\\x89PNG", {"Content-Type": "image/png"})
                if request.path == "/bad":
                    raise BadRequest("field x: expected a number")
                if request.path == "/boom":
                    raise RuntimeError("secret detail")
                if request.path == "/none":
                    return {"not": "a response"}
                return Response(200, {
                    "method": request.method, "path": request.path, "query": request.query,
                    "body": request.body.decode("latin-1"), "cookie": request.header("cookie"),
                    "correlation_id": request.correlation_id,
                })

            def consume(message):
                SEEN.append((message.id, message.body, current_correlation_id()))
                if message.body == "poison":
                    raise ValueError("poison")

            APP = App("web", code=[__name__.split(".")[0]], functions=[
                Http("api", __name__ + ":handle"), QueueConsumer("events", __name__ + ":consume"),
            ])
            """
        )
    )
    spec = f"{package}.web:APP"
    monkeypatch.setenv("STATEKIT_APP", spec)
    monkeypatch.setenv("STATEKIT_FUNCTION", "api")
    return spec


def v2(path: str, **extra: Any) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": path,
        "headers": {"x-correlation-id": "c-1"},
        "requestContext": {"http": {"method": "POST", "path": path}},
        "queryStringParameters": {"q": "1"},
        **extra,
    }


def test_a_function_url_event_with_a_binary_body(app_spec: str) -> None:
    event = v2(
        "/echo",
        body=base64.b64encode(b"\xff\x00").decode(),
        isBase64Encoded=True,
        cookies=["a=1", "b=2"],
    )
    response = aws.handle(event, None)
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    assert response["headers"]["x-correlation-id"] == "c-1"
    assert json.loads(response["body"]) == {
        "method": "POST",
        "path": "/echo",
        "query": {"q": "1"},
        "body": "\xff\x00",
        "cookie": "a=1; b=2",
        "correlation_id": "c-1",
    }


def test_a_rest_api_v1_event(app_spec: str) -> None:
    event: dict[str, Any] = {
        "httpMethod": "GET",
        "path": "/v1",
        "headers": {},
        "requestContext": {},
        "body": None,
    }
    body = json.loads(aws.handle(event, None)["body"])
    assert (body["method"], body["path"]) == ("GET", "/v1")
    assert len(body["correlation_id"]) == 32  # none given: made at the edge


def test_a_binary_response_is_base64(app_spec: str) -> None:
    response = aws.handle(v2("/bytes"), None)
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == b"\x89PNG"
    assert response["headers"]["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/bad", 400, "field x: expected a number"),
        ("/boom", 500, "internal error; see logs"),  # never the exception's text
        ("/none", 500, "internal error; see logs"),
    ],
)
def test_errors_are_statuses_never_traces(
    app_spec: str, path: str, status: int, message: str
) -> None:
    response = aws.handle(v2(path), None)
    assert response["statusCode"] == status
    assert json.loads(response["body"])["message"] == message
    assert response["headers"]["x-correlation-id"] == "c-1"


def test_an_sqs_batch_reports_only_its_failures(
    app_spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    monkeypatch.setenv("STATEKIT_FUNCTION", "events")
    records = [
        {"messageId": "m1", "body": json.dumps({"correlation_id": "c-9"}), "attributes": {}},
        {
            "messageId": "m2",
            "body": json.dumps("poison"),
            "attributes": {"ApproximateReceiveCount": "3"},
        },
        {"messageId": "m3", "body": "not json", "attributes": {}},
    ]
    assert aws.handle({"Records": records}, None) == {
        "batchItemFailures": [{"itemIdentifier": "m2"}]
    }
    seen = importlib.import_module(app_spec.split(":", maxsplit=1)[0]).SEEN
    assert [(m, b) for m, b, _ in seen] == [
        ("m1", {"correlation_id": "c-9"}),
        ("m2", "poison"),
        ("m3", "not json"),
    ]
    assert seen[0][2] == "c-9"  # the message's correlation id


def test_an_event_of_the_wrong_kind_is_a_clear_error(app_spec: str) -> None:
    from statekit.app import AppError

    with pytest.raises(AppError, match="not from API Gateway or a Function URL"):
        aws.handle({"Records": []}, None)

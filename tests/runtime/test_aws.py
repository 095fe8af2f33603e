"""The example App through ``statekit.runtime.aws.handle``, against DynamoDB, SQS and Redis stand-ins.

Every function of the App runs the one handler; ``STATEKIT_FUNCTION`` says which.

HTTP goes in as API Gateway HTTP API (v2) events; order events as SQS batches
driven the way the event source mapping drives them (ReportBatchItemFailures:
only the reported failures stay on the queue; SQS's redrive policy moves a
message received ``maxReceiveCount`` times to the dead-letter queue). Sagas run
on the local executor over the DynamoDB store here: moto cannot run Lambda code
(EMULATORS.md), so Step Functions' own run of the saga is proven in
tests/conformance/workflows with canned activity results; the activity entry point is
checked below with the envelope Step Functions sends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

pytest.importorskip("boto3", reason="the aws extra is not installed")

import boto3

from handlers.app import CART_TTL, OPEN_CARTS, get_app
from statekit.runtime import aws
from tests.handlers.scenario import run_scenario
from tests.standins.dynamodb_table import create_store_table

ROOT = Path(__file__).resolve().parents[2]
MAX_RECEIVES = 2
APP = "handlers.app:APP"


def as_function(name: str) -> None:
    """What the IaC side sets on each Lambda: the App and which of its functions it is."""
    os.environ["STATEKIT_APP"] = APP
    os.environ["STATEKIT_FUNCTION"] = name


class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the parts handlers may read)."""

    function_name = "statekit-http"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def http_event(method: str, path: str, body: Any, headers: dict[str, str] | None) -> dict[str, Any]:
    raw = None if body is None else (body if isinstance(body, str) else json.dumps(body))
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in (headers or {}).items()}
        | {"content-type": "application/json"},
        "requestContext": {"http": {"method": method, "path": path}, "requestId": uuid.uuid4().hex},
        "body": raw,
        "isBase64Encoded": False,
    }


class LambdaPlatform:
    def __init__(self, sqs: Any, queue_url: str, dlq_url: str) -> None:
        self.sqs, self.queue_url, self.dlq_url = sqs, queue_url, dlq_url

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        as_function("api")
        response = aws.handle(http_event(method, path, body, headers), LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    def deliver_events(self) -> None:
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=1,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        if not received:
            return
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "eventSource": "aws:sqs",
                }
                for m in received
            ]
        }
        as_function("order-events")
        failures = {
            f["itemIdentifier"] for f in aws.handle(event, LambdaContext())["batchItemFailures"]
        }
        for message in received:  # the event source mapping deletes what succeeded
            if message["MessageId"] not in failures:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def send_event(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def dead_letters(self) -> list[Any]:
        got = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]


@pytest.fixture
def aws_env(standins, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    moto = standins.get("moto")
    for name, value in moto.client_env().items():
        monkeypatch.setenv(name, value)
    run = uuid.uuid4().hex[:8]
    table, queue = f"handlers-{run}", f"events-{run}"
    create_store_table(moto.endpoint, table)
    store_url = f"dynamodb://{table}?region=us-east-1"
    env = {
        "STATEKIT_STORE_URL": store_url,
        "STATEKIT_CACHE_URL": standins.get("redis").url,
        "STATEKIT_QUEUE_URL": f"sqs://sqs.us-east-1.amazonaws.com/123456789012/{queue}?max_attempts={MAX_RECEIVES}",
        "STATEKIT_WORKFLOW_URL": f"local://?store={quote(store_url, safe='')}",
    }
    for name, value in {**env, "STATEKIT_APP": APP, "STATEKIT_FUNCTION": "api"}.items():
        monkeypatch.setenv(name, value)
    get_app.cache_clear()
    get_app().queue.provision()  # the queue, its DLQ and the redrive policy, as modules/aws makes them
    get_app().seed_products()
    yield {**env, **moto.client_env(), "queue": queue}
    get_app.cache_clear()


def test_the_scenario_through_the_lambda_handlers(aws_env: dict[str, str]) -> None:
    sqs = boto3.client("sqs", endpoint_url=aws_env["AWS_ENDPOINT_URL"], region_name="us-east-1")
    queue_url = sqs.get_queue_url(QueueName=aws_env["queue"])["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=aws_env["queue"] + "-dlq")["QueueUrl"]
    run_scenario(LambdaPlatform(sqs, queue_url, dlq_url))


def test_the_activity_function_serves_the_step_functions_envelope(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STATEKIT_APP", APP)
    monkeypatch.setenv("STATEKIT_FUNCTION", "activities")
    result = aws.handle(
        {"activity": "reserve_stock", "input": {"order_id": "o1", "items": [1]}}, LambdaContext()
    )
    assert result == {"reservation_id": "res-o1", "items": 1}


def test_a_wait_for_task_token_payload_hands_the_token_to_the_activity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from statekit.app import current_task_token

    seen: list[str | None] = []
    from statekit.runtime.dispatch import load_app

    app = load_app()
    workflow = app.workflows[0]
    monkeypatch.setitem(
        workflow.implementations, "reserve_stock", lambda payload: seen.append(current_task_token())
    )
    monkeypatch.setenv("STATEKIT_APP", APP)
    monkeypatch.setenv("STATEKIT_FUNCTION", "activities")
    event = {"activity": "reserve_stock", "input": {"order_id": "o1"}, "task_token": "tok-1"}
    aws.handle(event, LambdaContext())
    assert seen == ["tok-1"]
    assert current_task_token() is None  # only while that activity runs


def test_an_eventbridge_scheduler_event_runs_the_nightly_cleanup(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = get_app()
    run = uuid.uuid4().hex[:8]
    # A cart last edited four days ago (its TTL counts from its last edit), and a fresh one.
    shop.store.put(f"cart-old{run}/cart", {"items": {"book": 1}}, ttl=CART_TTL - 4 * 86400)
    shop.store.put(f"{OPEN_CARTS}old{run}", {"expires_at": None})
    shop.add_item(f"new{run}", {"sku": "mug", "qty": 1})
    monkeypatch.setenv("STATEKIT_FUNCTION", "nightly")
    event = {  # what EventBridge Scheduler sends when the schedule has no input of its own
        "version": "0",
        "id": f"sched-{run}",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "detail": {},
    }
    assert aws.handle(event, LambdaContext()) == {"ok": True}
    assert shop.store.get(f"cart-old{run}/cart") is None
    assert shop.store.get(f"{OPEN_CARTS}old{run}") is None
    assert shop.get_cart(f"new{run}")["items"] == {"mug": 1}


def test_a_wrong_function_name_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from statekit.app import AppError

    monkeypatch.setenv("STATEKIT_APP", APP)
    monkeypatch.setenv("STATEKIT_FUNCTION", "emails")
    with pytest.raises(AppError, match=r"app 'shop': no function named 'emails' \(declared: api, "):
        aws.handle({}, LambdaContext())


class RuntimeAPI(BaseHTTPRequestHandler):
    """The Lambda Runtime API, enough for one invocation: next, then response."""

    protocol_version = "HTTP/1.1"  # the runtime client keeps its connection open
    event: bytes = b""
    trace_id = "Root=1-00000000-000000000000000000000000;Sampled=0"  # Lambda-Runtime-Trace-Id
    received: list[bytes] = []
    served = threading.Event()

    def do_GET(self) -> None:
        if self.served.is_set():  # the runtime asks for the next event: none will come
            threading.Event().wait(60)
            return
        self.served.set()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-ric-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
        self.send_header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:http",
        )
        self.send_header("Lambda-Runtime-Trace-Id", self.trace_id)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.event)))
        self.end_headers()
        self.wfile.write(self.event)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append(body)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_awslambdaric_runs_the_http_handler_as_the_runtime_does(aws_env: dict[str, str]) -> None:
    RuntimeAPI.event = json.dumps(
        http_event("GET", "/products/book", None, {"X-Correlation-Id": "ric-1"})
    ).encode()
    RuntimeAPI.received = []
    RuntimeAPI.served = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeAPI)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
    env["STATEKIT_FUNCTION"] = "api"
    process = subprocess.Popen(
        [sys.executable, "-m", "awslambdaric", "statekit.runtime.aws.handle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            if RuntimeAPI.received:
                break
            if process.poll() is not None:
                break
            threading.Event().wait(0.1)
    finally:
        process.kill()
        output = process.communicate()[0].decode(errors="replace")
        server.shutdown()
    assert RuntimeAPI.received, (
        f"no response from awslambdaric (exit {process.returncode}); its output:\n{output[-3000:]}"
    )
    response = json.loads(RuntimeAPI.received[0])
    assert response["statusCode"] == 200
    assert response["headers"]["x-correlation-id"] == "ric-1"
    assert json.loads(response["body"])["sku"] == "book"

"""The example App through ``statekit.runtime.azure.function_app()``, against Cosmos DB,
azurite and Redis.

The Functions app is built as the package root's ``function_app.py`` builds it;
HTTP goes in as ``func.HttpRequest`` objects handed to the HTTP trigger's user
function, found the way the Python worker finds it (``app.get_functions()``
once). Order events go to the queue trigger's user function as
``QueueMessage`` objects built from what azurite hands out, driven as the
Functions host drives the trigger: a message the function handled is deleted,
one it failed is made visible again (host.json ``visibilityTimeout``, 0 here),
and one dequeued more than ``maxDequeueCount`` times is moved to
``<queue>-poison``. That last move is statekit's azurequeue backend's own
receive (it follows the host's convention, so a Function and a statekit
consumer on one queue agree), so this test uses it rather than copying it.

Sagas run on the local executor over the Cosmos store here: there is no
Durable Functions host on these machines (EMULATORS.md), so the orchestrator
itself is proven by replaying histories in tests/conformance/workflows; below, the
orchestrator and activity functions are checked for their binding types and
the activity function is called with the envelope the orchestrator sends.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

pytest.importorskip("azure.functions", reason="the azure extra is not installed")
pytest.importorskip("azure.storage.queue", reason="the azure extra is not installed")
pytest.importorskip("azure.cosmos", reason="the azure extra is not installed")

import azure.functions as func
from azure.functions.queue import QueueMessage  # what the worker's queue converter builds
from azure.functions.timer import TimerRequest

from handlers.app import APP, CART_TTL, OPEN_CARTS, get_app
from statekit.queue import Queue, open_queue
from statekit.queue.backends.azurequeue import AzureQueue
from statekit.runtime import azure
from tests.handlers.scenario import run_scenario
from tests.standins.azurite import AzuriteQueue as Azurite
from tests.standins.base import StandInPool
from tests.standins.cosmos import CosmosDBServer

MAX_DEQUEUE_COUNT = 2  # host.json extensions.queues.maxDequeueCount
HOLD_SECONDS = 30  # how long the host keeps a message invisible while the function runs
BASE_URL = "http://localhost:7071/api"  # the host's default route prefix
APP_SPEC = "handlers.app:APP"


@functools.cache
def functions() -> dict[str, Any]:
    """The app's functions by name, indexed once as the Python worker indexes them
    (``get_functions()`` refuses a second call on one app)."""
    return {
        function.get_function_name(): function
        for function in azure.function_app(APP_SPEC).get_functions()
    }


def user_function(name: str) -> Any:
    return functions()[name].get_user_function()


class AzureFunctionsPlatform:
    """The Functions host's part: HTTP requests in, queue messages to the trigger."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue  # the host's own client of the trigger's queue
        self.http_api = user_function("api")
        self.order_events = user_function("order-events")
        self.failures: list[tuple[str, int]] = []  # (body, dequeue count) of each failed run

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        raw = (
            b"" if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
        )
        request = func.HttpRequest(
            method,
            BASE_URL + "/api" + path,  # the api function's route: api/{*path}
            headers={"content-type": "application/json", **(headers or {})},
            params={},
            route_params={"path": path.lstrip("/")},
            body=raw,
        )
        response = self.http_api(request)
        assert isinstance(response, func.HttpResponse)
        assert response.headers["content-type"] == "application/json", response.headers
        return response.status_code, json.loads(response.get_body())

    def deliver_events(self) -> None:
        # The backend's receive moves any message dequeued over max_attempts to -poison.
        backend = self.queue.backend
        for raw in backend.receive(self.queue.limits.max_receive_batch, 0, HOLD_SECONDS):
            message = QueueMessage(  # type: ignore[no-untyped-call]
                id=raw.id, body=raw.data.encode("utf-8"), dequeue_count=raw.attempts
            )
            try:
                self.order_events(message)
            except Exception:  # the function failed: visible again for the next try
                self.failures.append((raw.data, raw.attempts))
                backend.change_visibility(raw, 0)
            else:
                backend.ack(raw)

    def send_event(self, body: str) -> None:
        self.queue.send(json.loads(body))

    def dead_letters(self) -> list[Any]:
        return [m.body for m in self.queue.dead_letters(10, visibility=1)]


@pytest.fixture
def azure_env(standins: StandInPool, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    cosmos = standins.get("cosmos")
    azurite = standins.get("azurite")
    assert isinstance(cosmos, CosmosDBServer) and isinstance(azurite, Azurite)
    for name, value in {**cosmos.client_env(), **azurite.client_env()}.items():
        monkeypatch.setenv(name, value)
    run = uuid.uuid4().hex[:8]
    container, queue = f"handlers{run}", f"events-{run}"
    cosmos.create_container("statekit", container)  # as modules/azure provisions it
    store_url = cosmos.store_url("statekit", container)
    env = {
        "STATEKIT_STORE_URL": store_url,
        "STATEKIT_CACHE_URL": standins.get("redis").url,  # type: ignore[attr-defined]
        "STATEKIT_QUEUE_URL": azurite.queue_url(queue) + f"&max_attempts={MAX_DEQUEUE_COUNT}",
        "STATEKIT_WORKFLOW_URL": f"local://?store={quote(store_url, safe='')}",
        "STATEKIT_QUEUE_NAME": queue,  # the queue trigger's %STATEKIT_QUEUE_NAME%
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_app.cache_clear()
    get_app().queue.provision()  # the queue and its -poison queue
    get_app().seed_products()
    yield env
    get_app.cache_clear()


def test_the_scenario_through_the_azure_functions(azure_env: dict[str, str]) -> None:
    with open_queue(azure_env["STATEKIT_QUEUE_URL"]) as queue:
        platform = AzureFunctionsPlatform(queue)
        run_scenario(platform)
    # Only the poison event failed, once per dequeue up to maxDequeueCount, as on the host.
    assert [json.loads(body)["type"] for body, _ in platform.failures] == [
        "bogus"
    ] * MAX_DEQUEUE_COUNT
    assert [count for _, count in platform.failures] == list(range(1, MAX_DEQUEUE_COUNT + 1))


def test_the_queue_trigger_listens_on_the_queue_the_app_sends_to(
    azure_env: dict[str, str],
) -> None:
    trigger = functions()["order-events"].get_trigger()
    assert trigger.type == "queueTrigger"
    setting = trigger.queue_name
    assert setting.startswith("%") and setting.endswith("%"), setting
    backend = get_app().queue.backend
    assert isinstance(backend, AzureQueue)
    assert os.environ[setting.strip("%")] == backend.queue


def test_the_saga_functions_have_durable_bindings() -> None:
    orchestrator = functions()["place_order"].get_trigger()  # one per workflow, by its name
    activity = functions()["activities"].get_trigger()
    assert (orchestrator.type, orchestrator.name) == ("orchestrationTrigger", "context")
    assert (activity.type, activity.name) == ("activityTrigger", "envelope")
    assert APP.activities == "activities"  # the name every orchestrator calls


def test_each_declared_function_has_its_trigger() -> None:
    http = functions()["api"].get_trigger()
    assert (http.type, http.route) == ("httpTrigger", "api/{*path}")
    assert str(http.auth_level).lower().endswith("function")  # Http("api"), not public
    timer = functions()["nightly"].get_trigger()
    assert (timer.type, timer.schedule) == ("timerTrigger", "0 0 3 * * *")
    assert sorted(functions()) == [
        "activities",
        "api",
        "nightly",
        "order-events",
        "place_large_order",
        "place_order",
        "statekit_body",
    ]


def test_a_function_app_for_one_function_registers_only_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STATEKIT_FUNCTION", "nightly")
    names = [f.get_function_name() for f in azure.function_app(APP_SPEC).get_functions()]
    assert names == ["nightly"]


def test_the_timer_trigger_runs_the_nightly_cleanup(azure_env: dict[str, str]) -> None:
    shop = get_app()
    run = uuid.uuid4().hex[:8]
    shop.store.put(f"cart-old{run}/cart", {"items": {"book": 1}}, ttl=CART_TTL - 4 * 86400)
    shop.store.put(f"{OPEN_CARTS}old{run}", {"expires_at": None})
    timer = TimerRequest(past_due=False)  # what the worker's timer converter builds
    user_function("nightly")(timer)
    assert shop.store.get(f"cart-old{run}/cart") is None
    assert shop.store.get(f"{OPEN_CARTS}old{run}") is None


@pytest.mark.parametrize("encode", [False, True], ids=["object", "json-text"])
def test_the_activity_function_serves_the_orchestrators_envelope(encode: bool) -> None:
    envelope: Any = {"activity": "reserve_stock", "input": {"order_id": "o1", "items": [1]}}
    result = user_function("activities")(json.dumps(envelope) if encode else envelope)
    assert result == {"reservation_id": "res-o1", "items": 1}

"""A Durable Functions host for tests: the HTTP management API on 127.0.0.1 over
orchestrators replayed by the real SDK (``df.Orchestrator.create``).

No Durable Task host runs here (it needs the Functions host and a storage
account), so this server plays its part, the way the Durable extension does:
it replays an orchestrator over its history, carries out the new actions
(activities, timers, sub-orchestrations) and appends the events the extension
would append, until the orchestrator is done or waits. ``WaitForExternalEvent``
waits for ``POST .../raiseEvent/{name}`` (an event raised earlier is kept in the
history, as the extension keeps it); a timer fires when the test calls
``fire_timers`` (time passing), except a step's timeout raced with its activity,
which never fires (the activity, carried out at once, wins). Endpoints: start, status (with
``showHistory``), list, raiseEvent, terminate: what ``durable://`` calls.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import azure.durable_functions as df

from tests.conformance.workflows.durable_history import START, DurableHistory

CALL_ACTIVITY = 0
CALL_SUB_ORCHESTRATOR = 2
CREATE_TIMER = 5
WAIT_FOR_EXTERNAL_EVENT = 6
NAMES = {
    4: "TaskScheduled",
    5: "TaskCompleted",
    6: "TaskFailed",
    10: "TimerCreated",
    11: "TimerFired",
    15: "EventRaised",
    7: "SubOrchestrationInstanceCreated",
    8: "SubOrchestrationInstanceCompleted",
    9: "SubOrchestrationInstanceFailed",
    0: "ExecutionStarted",
    12: "OrchestratorStarted",
    13: "OrchestratorCompleted",
}


class Instance(DurableHistory):
    """One orchestration instance: its history, replayed after every change."""

    def __init__(self, host: DurableHost, instance_id: str, name: str, payload: Any) -> None:
        self.host = host
        self.instance_id = instance_id
        self.name = name
        self.input = json.dumps(payload)
        self.clock = START
        self.next_id = 0
        self.history: list[dict[str, Any]] = []
        self.done_groups = 0
        self.timers: list[tuple[int, str]] = []
        self.runtime_status = "Running"
        self.output: Any = None
        self.custom_status: Any = None
        self.episode()
        self.event(0, Input=self.input, Name=name, Version="")

    def replay(self) -> dict[str, Any]:
        handle = self.host.orchestrators[self.name]
        context = {
            "history": self.history,
            "instanceId": self.instance_id,
            "isReplaying": False,
            "parentInstanceId": None,
            "input": self.input,
        }
        try:
            state: dict[str, Any] = json.loads(handle(json.dumps(context)))
        except Exception as exc:  # a failed orchestration: its state follows the marker
            marker = "$OutOfProcData$:"
            if marker not in str(exc):
                raise
            state = json.loads(str(exc).split(marker, 1)[1])
        return state

    def advance(self) -> None:
        """Replay and carry out new actions until the orchestrator is done or waits."""
        for _ in range(500):
            if self.runtime_status != "Running":
                return
            state = self.replay()
            self.custom_status = state.get("customStatus")
            if state.get("error"):
                self.runtime_status, self.output = "Failed", state["error"]
                return
            if state.get("isDone"):
                self.runtime_status, self.output = "Completed", state.get("output")
                return
            fresh = state["actions"][self.done_groups :]
            self.done_groups = len(state["actions"])
            if not fresh:
                return  # waiting for an event or a timer
            self.event(13)
            completions = [c for group in fresh for c in self.carry_out(group)]
            self.episode()
            for completion in completions:
                self.event(completion.pop("EventType"), **completion)
        raise AssertionError(f"{self.instance_id}: orchestration did not settle")

    def carry_out(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        completions: list[dict[str, Any]] = []
        # A timer raced with an activity is a step's timeout: the activity, carried out
        # at once here, always wins. Every other timer fires when time passes.
        racing_activity = any(a["actionType"] == CALL_ACTIVITY for a in actions)
        for action in actions:
            kind = action["actionType"]
            if kind == WAIT_FOR_EXTERNAL_EVENT:
                continue  # no id; completed by raise_event
            event_id = self.next_id
            self.next_id += 1
            if kind == CALL_ACTIVITY:
                self.event(4, event_id, Name=action["functionName"], Input=action["input"])
                try:
                    result = self.host.activity(json.loads(action["input"]))
                except Exception as exc:
                    reason = f"Activity function '{action['functionName']}' failed: {exc}"
                    completions.append(
                        {
                            "EventType": 6,
                            "TaskScheduledId": event_id,
                            "Reason": reason,
                            "Details": "",
                        }
                    )
                else:
                    completions.append(
                        {"EventType": 5, "TaskScheduledId": event_id, "Result": json.dumps(result)}
                    )
            elif kind == CREATE_TIMER:
                self.event(10, event_id, FireAt=action["fireAt"])
                if not racing_activity:
                    self.timers.append((event_id, action["fireAt"]))
            elif kind == CALL_SUB_ORCHESTRATOR:
                child_id = action.get("instanceId") or f"{self.instance_id}:{event_id}"
                self.event(
                    7,
                    event_id,
                    Name=action["functionName"],
                    Input=action["input"],
                    InstanceId=child_id,
                )
                child = self.host.create(
                    child_id, action["functionName"], json.loads(action["input"])
                )
                if child.runtime_status == "Completed":
                    completions.append(
                        {
                            "EventType": 8,
                            "TaskScheduledId": event_id,
                            "Result": json.dumps(child.output),
                        }
                    )
                else:
                    completions.append(
                        {
                            "EventType": 9,
                            "TaskScheduledId": event_id,
                            "Reason": str(child.output),
                            "Details": "",
                        }
                    )
            else:
                raise AssertionError(f"unexpected action {action}")
        return completions

    def raise_event(self, name: str, payload: Any) -> None:
        self.episode()
        self.event(15, Name=name, Input=json.dumps(payload))
        self.advance()

    def fire_timers(self) -> None:
        """Time passes: the pending timers (waits, event timeouts, backoffs) fire."""
        if not self.timers:
            return
        self.episode()
        for timer_id, fire_at in self.timers:
            self.event(11, TimerId=timer_id, FireAt=fire_at)
        self.timers = []
        self.advance()

    def describe(self, with_history: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "instanceId": self.instance_id,
            "runtimeStatus": self.runtime_status,
            "input": json.loads(self.input),
            "output": self.output,
            "customStatus": self.custom_status,
        }
        if with_history:
            scheduled = {e["EventId"]: e for e in self.history if e["EventType"] == 4}
            events = []
            for e in self.history:
                entry = {
                    "EventType": NAMES.get(e["EventType"], str(e["EventType"])),
                    "Timestamp": e["Timestamp"],
                }
                if e["EventType"] in (5, 6):
                    origin = scheduled[e["TaskScheduledId"]]
                    entry.update(
                        FunctionName=json.loads(origin["Input"])["activity"],
                        ScheduledTime=origin["Timestamp"],
                    )
                if e["EventType"] == 15:
                    entry["Name"] = e["Name"]
                events.append(entry)
            body["historyEvents"] = events
        return body


class DurableHost:
    """The management API on 127.0.0.1; ``orchestrators`` maps names to handles."""

    def __init__(
        self, orchestrators: dict[str, Callable[..., Any]], activity: Callable[[Any], Any]
    ) -> None:
        self.orchestrators = {
            name: df.Orchestrator.create(fn) for name, fn in orchestrators.items()
        }
        self.activity = activity
        self.instances: dict[str, Instance] = {}
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def create(self, instance_id: str, name: str, payload: Any) -> Instance:
        with self.lock:
            instance = Instance(self, instance_id, name, payload)
            self.instances[instance_id] = instance
            instance.advance()
            return instance

    def fire_timers(self, instance_id: str) -> None:
        with self.lock:
            self.instances[instance_id].fire_timers()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(host: DurableHost) -> type[BaseHTTPRequestHandler]:
    prefix = "/runtime/webhooks/durabletask"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def reply(self, code: int, body: Any = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def parts(self) -> tuple[list[str], dict[str, list[str]]]:
            url = urlsplit(self.path)
            assert url.path.startswith(prefix)
            return [unquote(p) for p in url.path[len(prefix) :].split("/") if p], parse_qs(
                url.query
            )

        def do_GET(self) -> None:
            parts, query = self.parts()
            with host.lock:
                if parts == ["instances"]:
                    wanted = set(",".join(query.get("runtimeStatus", [""])).split(",")) - {""}
                    listed = [
                        i.describe(False)
                        for i in host.instances.values()
                        if ":" not in i.instance_id and (not wanted or i.runtime_status in wanted)
                    ]
                    self.reply(200, listed[: int(query.get("top", ["100"])[0])])
                    return
                instance = host.instances.get(parts[1]) if len(parts) == 2 else None
                if instance is None:
                    self.reply(404, None)
                    return
                self.reply(200, instance.describe(query.get("showHistory") == ["true"]))

        def do_POST(self) -> None:
            parts, _query = self.parts()
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            with host.lock:
                if parts[0] == "orchestrators":
                    host.create(parts[2], parts[1], body)
                    self.reply(202, {"id": parts[2]})
                    return
                instance = host.instances.get(parts[1])
                if instance is None:
                    self.reply(404, None)
                elif instance.runtime_status != "Running":
                    self.reply(410, None)
                elif parts[2] == "raiseEvent":
                    instance.raise_event(parts[3], body)
                    self.reply(202, None)
                elif parts[2] == "terminate":
                    instance.runtime_status = "Terminated"
                    self.reply(202, None)
                else:
                    self.reply(404, None)

    return Handler

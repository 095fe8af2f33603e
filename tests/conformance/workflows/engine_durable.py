"""The saga's Durable Functions orchestrator, replayed from histories.

There is no Durable Task host here, so this harness plays its part the way
the Durable extension does: it replays the orchestrator over the history so
far (``df.Orchestrator.create``), reads the new actions, carries them out
(activities through ``handlers.activities.run_activity``, timers by firing
them) and appends the events the extension would append (TaskScheduled and
TaskCompleted or TaskFailed, TimerCreated and TimerFired, with event ids in
scheduling order), episode after episode, until the orchestrator is done.
A timer racing an activity (a step's timeout) is created but never fires:
the activity finishes first.
"""

from __future__ import annotations

import json
import time
from typing import Any

import azure.durable_functions as df

from handlers.activities import ActivityFailed, run_activity
from handlers.saga import ORDER_SAGA
from statekit.workflows.engines.durable.client import run_from_orchestration
from statekit.workflows.engines.durable.orchestrator import orchestrator_function
from tests.conformance.workflows.durable_history import START, DurableHistory
from tests.conformance.workflows.outcome import Outcome
from tests.conformance.workflows.saga_script import Scenario

CALL_ACTIVITY = 0
CREATE_TIMER = 5


class DurableReplayHost(DurableHistory):
    def __init__(self, instance_id: str, payload: Any) -> None:
        self.instance_id = instance_id
        self.clock = START
        self.next_id = 0
        self.history: list[dict[str, Any]] = []
        self.episode()
        self.input = json.dumps(payload)
        self.event(0, Input=self.input, Name=ORDER_SAGA.name, Version="")  # ExecutionStarted
        self.replays = 0

    def replay(self, handle: Any) -> dict[str, Any]:
        self.replays += 1
        context = {
            "history": self.history,
            "instanceId": self.instance_id,
            "isReplaying": False,
            "parentInstanceId": None,
            "input": self.input,
        }
        try:
            state: dict[str, Any] = json.loads(handle(json.dumps(context)))
        except Exception as exc:  # a failed orchestration: state after the marker
            text = str(exc)
            marker = "$OutOfProcData$:"
            if marker not in text:
                raise
            state = json.loads(text.split(marker, 1)[1])
        return state

    def carry_out(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Schedule ``actions`` (one yield's worth); return the completion events."""
        completions: list[dict[str, Any]] = []
        racing = len(actions) > 1
        for action in actions:
            event_id = self.next_id
            self.next_id += 1
            if action["actionType"] == CALL_ACTIVITY:
                self.event(4, event_id, Name=action["functionName"], Input=action["input"])
                try:
                    result = run_activity(json.loads(action["input"]))
                except ActivityFailed as exc:
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
            elif action["actionType"] == CREATE_TIMER:
                self.event(10, event_id, FireAt=action["fireAt"])
                if not racing:
                    completions.append(
                        {"EventType": 11, "TimerId": event_id, "FireAt": action["fireAt"]}
                    )
            else:
                raise AssertionError(f"unexpected action {action}")
        return completions

    def run(self, handle: Any, limit: int = 100) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        done = 0
        for _ in range(limit):
            state = self.replay(handle)
            if state.get("isDone") or state.get("error"):
                return state, [a for group in state["actions"] for a in group]
            fresh = state["actions"][done:]
            done = len(state["actions"])
            if not fresh:
                raise AssertionError(f"orchestrator is waiting on nothing: {state}")
            self.event(13)  # OrchestratorCompleted
            completions = [c for group in fresh for c in self.carry_out(group)]
            self.episode()
            for completion in completions:
                event_type = completion.pop("EventType")
                self.event(event_type, **completion)
        raise AssertionError("orchestration did not finish")


class DurableEngine:
    def __init__(self) -> None:
        self.handle = df.Orchestrator.create(orchestrator_function(ORDER_SAGA))

    def run(self, scenario: Scenario) -> Outcome:
        began = time.monotonic()
        host = DurableReplayHost(scenario.order["order_id"], scenario.order)
        state, actions = host.run(self.handle)
        seconds = time.monotonic() - began
        runtime_status = "Completed" if state.get("isDone") and not state.get("error") else "Failed"
        run = run_from_orchestration(
            scenario.order["order_id"],
            ORDER_SAGA.name,
            runtime_status,
            state.get("output") if runtime_status == "Completed" else state.get("error"),
        )
        calls = [json.loads(a["input"]) for a in actions if a["actionType"] == CALL_ACTIVITY]
        self.last_actions = actions
        self.last_history = host.history
        return Outcome(
            status=run.status,
            output=run.output,
            failed_step=(run.error or {}).get("step"),
            error=run.error,
            compensations=tuple(run.compensated),
            calls=[call["activity"] for call in calls],
            inputs=calls,
            seconds=seconds,
        )


class DurableLongRunning:
    """The long-running cases through the ``durable://`` client against the
    management API of tests/conformance/workflows/durable_host.py (the real SDK's replay)."""

    name = "durable"

    def __init__(self) -> None:
        from statekit.workflows.engines.durable.client import DurableWorkflows
        from statekit.workflows.engines.durable.orchestrator import (
            BODY_ORCHESTRATOR,
            body_orchestrator_function,
        )
        from tests.conformance.workflows.durable_host import DurableHost
        from tests.conformance.workflows.long_running import WORKFLOWS, run_activity

        orchestrators: dict[str, Any] = {
            workflow.name: orchestrator_function(workflow) for workflow in WORKFLOWS
        }
        orchestrators[BODY_ORCHESTRATOR] = body_orchestrator_function(workflows=WORKFLOWS)
        self.host = DurableHost(orchestrators, run_activity)
        self.clients = {
            workflow.name: DurableWorkflows(f"http://{self.host.host}", workflow.name, None)
            for workflow in WORKFLOWS
        }
        self.client = next(iter(self.clients.values()))

    def start(
        self, workflow: Any, payload: Any, run_id: str, on_conflict: str = "use_existing"
    ) -> Any:
        self.client = self.clients[workflow.name]
        return self.client.start(workflow, payload, run_id, on_conflict=on_conflict)

    def tick(self, run_id: str) -> None:
        pass  # the host carries out every action as soon as it is scheduled

    def waiting_for_event(self, run_id: str) -> bool:
        return self.client.status(run_id).step == "approval"

    def let_time_pass(self, run_id: str) -> None:
        self.host.fire_timers(run_id)

    def compensations(self, run: Any) -> tuple[str, ...]:
        return tuple(run.compensated)

    def stop(self) -> None:
        self.host.stop()

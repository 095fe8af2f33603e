"""What the order saga must do, derived once from the definition and the activities.

``script(order)`` runs the saga in the local executor (memory store, no
sleeping) with recording activities and returns every activity call in order:
the expected trace for the other engines, and the canned answers a stand-in
that cannot run our code (moto's Lambda) replays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handlers.activities import ACTIVITIES, ActivityFailed
from handlers.saga import ORDER_SAGA, order
from statekit.store import open_store
from statekit.workflows.engines.local.client import LocalWorkflows

COMPENSATIONS_IN_REVERSE = ("refund_payment", "release_stock")


@dataclass
class Call:
    activity: str
    input: Any
    result: Any = None
    error: ActivityFailed | None = None


@dataclass
class Scenario:
    name: str
    order: dict[str, Any]
    status: str
    failed_step: str | None
    compensations: tuple[str, ...]
    calls: list[Call] = field(default_factory=list)
    output: Any = None


def script(order_input: dict[str, Any]) -> tuple[list[Call], Any]:
    calls: list[Call] = []

    def recording(name: str) -> Any:
        def run(payload: Any) -> Any:
            call = Call(name, payload)
            calls.append(call)
            try:
                call.result = ACTIVITIES[name](payload)
            except ActivityFailed as exc:
                call.error = exc
                raise
            return call.result

        return run

    engine = LocalWorkflows(
        open_store("memory://"),
        activities={name: recording(name) for name in ACTIVITIES},
        sleep=lambda _seconds: None,
    )
    run = engine.start(ORDER_SAGA, order_input, f"script-{order_input['order_id']}")
    return calls, run.output


def scenarios(run_tag: str) -> dict[str, Scenario]:
    happy = order(f"{run_tag}-happy")
    failing = order(f"{run_tag}-fail", fail_at="create_shipment")
    declined = order(f"{run_tag}-declined", card="declined")
    found = {
        "happy": Scenario("happy", happy, "succeeded", None, ()),
        "third_step_fails": Scenario(
            "third_step_fails", failing, "compensated", "create_shipment", COMPENSATIONS_IN_REVERSE
        ),
        # The choice on charge_payment's result leads to the Fail step.
        "card_declined": Scenario(
            "card_declined", declined, "compensated", "payment_declined", COMPENSATIONS_IN_REVERSE
        ),
    }
    for scenario in found.values():
        scenario.calls, scenario.output = script(scenario.order)
    return found

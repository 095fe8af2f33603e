"""One scenario, four engines: the order saga ends the same way everywhere.

Happy path: every step runs once and the output is the order with its
reservation, payment and shipment. Failing third step (``fail_at``): the
shipment is attempted as often as its retry allows, then the payment is
refunded and the stock released, in that (reverse) order, and the run ends
``compensated`` naming ``create_shipment``. Declined card: the choice on the
payment's result goes to the ``payment_declined`` Fail step, which undoes the
same way.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.workflows.conftest import ENGINES
from tests.conformance.workflows.saga_script import Scenario


@pytest.mark.parametrize("scenario_name", ["happy", "third_step_fails", "card_declined"])
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_order_saga(engine: Any, scenario_name: str, saga_scenarios: dict[str, Scenario]) -> None:
    scenario = saga_scenarios[scenario_name]
    outcome = engine.run(scenario)
    print(f"{type(engine).__name__} {scenario_name}: {outcome.seconds:.2f} s")

    assert outcome.status == scenario.status
    assert outcome.failed_step == scenario.failed_step
    assert outcome.compensations == scenario.compensations
    # The engine's own trace: every attempt, in order, as the definition says.
    assert outcome.calls == [call.activity for call in scenario.calls]
    if outcome.inputs:
        expected = [{"activity": call.activity, "input": call.input} for call in scenario.calls]
        assert outcome.inputs == expected
    if scenario.status == "succeeded":
        assert outcome.output == scenario.output
        assert outcome.output["shipment"]["shipment_id"] == f"ship-{scenario.order['order_id']}"
    else:
        assert outcome.output is None
        assert outcome.error["step"] == scenario.failed_step
        # moto's Lambda can only fail as an oversized response (engine_stepfunctions.py);
        # every other engine carries the activity's own error name back.
        if scenario.name == "card_declined":
            assert outcome.error["error"] == "PaymentDeclined"
            assert outcome.error["message"] == "the card was declined"
        elif outcome.error["error"] != "Function.ResponseSizeTooLarge":
            assert outcome.error["error"] == "CreateShipmentFailed"
            assert "fail_at" in outcome.error["message"]

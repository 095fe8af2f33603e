"""Build-time validation of workflow definitions (pure Python)."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.saga import ORDER_SAGA
from statekit import StatekitError
from statekit.workflows import (
    Compensation,
    Fail,
    Retry,
    Step,
    When,
    Workflow,
    WorkflowDefinitionError,
    choose_next,
    map_input,
)

ACTS = {"a", "b", "c", "undo_a"}


def build(steps: list[Any], **kwargs: Any) -> Workflow:
    return Workflow("wf", steps, activities=ACTS, **kwargs)


def rejects(steps: list[Any], step: str | None, fragment: str, **kwargs: Any) -> None:
    with pytest.raises(WorkflowDefinitionError) as caught:
        build(steps, **kwargs)
    assert caught.value.step == step
    assert fragment in str(caught.value)
    assert isinstance(caught.value, StatekitError)
    if step:
        assert repr(step) in str(caught.value)


def test_the_order_saga_is_valid() -> None:
    assert ORDER_SAGA.start == "reserve_stock"
    assert ORDER_SAGA.compensation_stack["create_shipment"] == ("reserve_stock", "charge_payment")
    assert ORDER_SAGA.compensation_before("charge_payment") == "reserve_stock"
    assert ORDER_SAGA.compensation_before("reserve_stock") is None


def test_unknown_activity_names_the_step() -> None:
    rejects([Step("one", activity="nope")], "one", "unknown activity 'nope'")


def test_unknown_compensation_activity() -> None:
    rejects(
        [Step("one", activity="a", compensate=Compensation("nope"))],
        "one",
        "unknown compensation activity",
    )


def test_unreachable_step() -> None:
    rejects(
        [Step("one", activity="a"), Step("orphan", activity="b")],
        "orphan",
        "unreachable from the start step 'one'",
    )


def test_cycle() -> None:
    rejects(
        [Step("one", activity="a", next="two"), Step("two", activity="b", next="one")],
        "one",
        "cycle",
    )


def test_self_loop_through_a_choice() -> None:
    rejects(
        [Step("one", activity="a", choices=[When("$.x", equals=1, next="one")])],
        "one",
        "cycle",
    )


def test_unknown_target() -> None:
    rejects([Step("one", activity="a", next="missing")], "one", "unknown step 'missing'")


def test_duplicate_and_bad_names() -> None:
    rejects([Step("one", activity="a"), Step("one", activity="b")], "one", "two steps")
    rejects([Step("bad name", activity="a")], "bad name", "step names must be")
    rejects([Step("double__underscore", activity="a")], "double__underscore", "step names")
    with pytest.raises(WorkflowDefinitionError, match="workflow name"):
        Workflow("has space", [Step("one", activity="a")], activities=ACTS)


def test_bad_paths_outputs_and_options() -> None:
    rejects([Step("one", activity="a", input={"x": "$..x"})], "one", "path '$..x'")
    rejects([Step("one", activity="a", output="statekit_x")], "one", "output 'statekit_x'")
    rejects([Step("one", activity="a", timeout=0)], "one", "timeout")
    rejects([Step("one", activity="a", retry=Retry(max_attempts=0))], "one", "max_attempts")
    rejects([Step("one", activity="a", retry=Retry(interval=1.5))], "one", "interval")  # type: ignore[arg-type]
    rejects([Step("one", activity="a", retry=Retry(backoff_rate=0.5))], "one", "backoff_rate")
    rejects(
        [Step("one", activity="a", choices=[When("x", equals=1, next="one")])],
        "one",
        "choice path",
    )


def test_activities_must_be_a_collection() -> None:
    with pytest.raises(WorkflowDefinitionError, match="not one string"):
        Workflow("wf", [Step("one", activity="a")], activities="a")


def test_start_must_exist() -> None:
    rejects([Step("one", activity="a")], None, "start step 'zero'", start="zero")


def test_paths_must_agree_on_compensations() -> None:
    # 'join' is reached after 'undoable' on one branch and without it on the other:
    # no single compensation chain fits, so the definition is refused.
    rejects(
        [
            Step(
                "one", activity="a", choices=[When("$.x", equals=1, next="undoable")], next="join"
            ),
            Step("undoable", activity="b", compensate=Compensation("undo_a"), next="join"),
            Step("join", activity="c"),
        ],
        "join",
        "different compensable steps",
    )


def test_fail_step_and_choices() -> None:
    workflow = build(
        [
            Step(
                "check",
                activity="a",
                output="result",
                choices=[
                    When("$.result.ok", equals=False, next="stop"),
                    When("$.result.n", equals=2, next="two"),
                ],
            ),
            Step("two", activity="b"),
            Fail("stop", error="NotOk"),
        ]
    )
    check = workflow.step("check")
    assert isinstance(check, Step)
    assert choose_next(check, {"result": {"ok": False, "n": 2}}) == "stop"
    assert choose_next(check, {"result": {"ok": 0, "n": 2.0}}) == "two"  # 0 is not false
    assert choose_next(check, {"result": {"ok": True, "n": 3}}) is None


def test_map_input() -> None:
    state = {"a": {"b": 1}, "c": [1, 2]}
    assert map_input(state, None) is state
    assert map_input(state, {"x": "$.a.b", "y": "literal", "z": 3, "all": "$"}) == {
        "x": 1,
        "y": "literal",
        "z": 3,
        "all": state,
    }
    with pytest.raises(KeyError, match="no field 'missing'"):
        map_input(state, {"x": "$.a.missing"})


def test_retry_delays() -> None:
    retry = Retry(max_attempts=5, interval=2, backoff_rate=3.0, max_interval=10)
    assert [retry.delay_before(n) for n in (2, 3, 4, 5)] == [2.0, 6.0, 10.0, 10.0]

"""Build-time validation of workflow definitions (pure Python)."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.saga import ORDER_SAGA
from statekit import StatekitError
from statekit.workflows import (
    Compensation,
    Fail,
    Map,
    Parallel,
    Retry,
    Step,
    Wait,
    WaitForEvent,
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


# -- long-running constructs ------------------------------------------------------------


def test_waits_need_exactly_one_of_seconds_or_until() -> None:
    rejects([Wait("w")], "w", "exactly one of seconds= or until=")
    rejects([Wait("w", seconds=5, until="$.at")], "w", "exactly one")
    rejects([Wait("w", seconds=0)], "w", "whole seconds")
    rejects([Wait("w", until="release_at")], "w", "must be a path")
    assert build([Wait("w", until="$.release_at", next="s"), Step("s", activity="a")])


def test_wait_for_event_rules() -> None:
    rejects([WaitForEvent("e", event="bad name")], "e", "event 'bad name'")
    rejects([WaitForEvent("e", event="ok", on_timeout="e")], "e", "on_timeout needs a timeout")
    rejects([WaitForEvent("e", event="ok", timeout=5, on_timeout="nowhere")], "e", "unknown step")
    rejects([WaitForEvent("e", event="ok", output="statekit_x")], "e", "output")
    rejects(
        [WaitForEvent("e", event="ok", choices=[When("nope", equals=1, next="e")])],
        "e",
        "choice path",
    )


def test_a_body_is_its_own_scope() -> None:
    # A branch's step may not jump out of its branch, nor to another branch.
    rejects(
        [
            Parallel("p", branches=[[Step("in_a", activity="a", next="after")]], next="after"),
            Step("after", activity="b"),
        ],
        "in_a",
        "a body's steps go only to steps of the same body",
    )
    rejects(
        [Map("m", items="$.xs", steps=[Step("x", activity="nope")])],
        "x",
        "unknown activity 'nope'",
    )
    rejects([Map("m", items="xs", steps=[Step("x", activity="a")])], "m", "items")
    rejects(
        [Map("m", items="$.xs", steps=[Step("x", activity="a")], max_concurrency=-1)],
        "m",
        "max_concurrency",
    )
    rejects([Parallel("p", branches=[])], "p", "list of branches")
    rejects([Parallel("p", branches=[[]])], None, "needs a step")
    # Names are unique across bodies too (ASL and Cloud Workflows share one namespace).
    rejects(
        [Parallel("p", branches=[[Step("same", activity="a")], [Step("same", activity="b")]])],
        "same",
        "two steps have this name",
    )


def test_compensations_inside_a_body_chain_within_it() -> None:
    wf = build(
        [
            Step("outer", activity="a", compensate=Compensation("undo_a"), next="p"),
            Parallel(
                "p",
                branches=[
                    [
                        Step("b1", activity="b", compensate=Compensation("undo_a"), next="b2"),
                        Step("b2", activity="c"),
                    ]
                ],
            ),
        ]
    )
    body = wf.scope("p.0")
    assert body.compensation_stack["b2"] == ("b1",)  # not "outer": the body undoes its own
    assert wf.compensation_stack["p"] == ("outer",)
    assert [s.name for s in wf.all_steps()] == ["outer", "p", "b1", "b2"]

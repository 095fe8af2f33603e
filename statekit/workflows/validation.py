"""Build-time checks of a workflow definition: each error names the step.

Besides names, activities, targets, reachability and cycles, one rule makes
sagas portable: every path to a step must have completed the same compensable
steps in the same order. Then "undo what was done before this step" is one
fixed chain per step, which is what ASL and Cloud Workflows can express
statically (a Catch or except that jumps to the chain's head).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from statekit.workflows.definition import (
    RESERVED_STATE_PREFIX,
    Compensation,
    Fail,
    Retry,
    Step,
    WorkflowDefinitionError,
    check_name,
    check_path,
    is_path,
)

if TYPE_CHECKING:
    from statekit.workflows.definition import AnyStep, Workflow

MAX_TIMEOUT_SECONDS = 24 * 3600  # longer activities belong in their own workflow
NAME_RULE = "letters, digits and '_' (not '__'), starting with a letter, at most 64 characters"


def validate(workflow: Workflow) -> None:
    def error(step: str | None, rule: str) -> WorkflowDefinitionError:
        return WorkflowDefinitionError(str(workflow.name), step, rule)

    if not check_name(workflow.name):
        raise error(None, f"the workflow name must be {NAME_RULE}")
    if not workflow.steps:
        raise error(None, "a workflow needs at least one step")
    for activity in workflow.activities:
        if not isinstance(activity, str) or not activity:
            raise error(None, f"activity names must be non-empty strings, got {activity!r}")
    for step in workflow.steps:
        if not isinstance(step, Step | Fail):
            raise error(None, f"steps must be Step or Fail, got {type(step).__name__}")
        if not check_name(step.name):
            raise error(str(step.name), f"step names must be {NAME_RULE}")
        if step.name in workflow._by_name:
            raise error(step.name, "two steps have this name")
        workflow._by_name[step.name] = step
    if workflow.start not in workflow._by_name:
        raise error(None, f"start step {workflow.start!r} is not one of the steps")
    for step in workflow.steps:
        if isinstance(step, Step):
            _check_step(workflow, step, error)
        elif not isinstance(step.error, str) or not step.error:
            raise error(step.name, "Fail needs an error name")
    _check_graph(workflow, error)


def _check_step(workflow: Workflow, step: Step, error: Any) -> None:
    if step.activity not in workflow.activities:
        known = ", ".join(sorted(workflow.activities)) or "none"
        raise error(step.name, f"unknown activity {step.activity!r} (known: {known})")
    _check_input(step.name, step.input, error)
    if step.output is not None and (
        not check_name(step.output) or step.output.startswith(RESERVED_STATE_PREFIX)
    ):
        raise error(
            step.name,
            f"output {step.output!r} must be a state field name ({NAME_RULE}), "
            f"not starting with {RESERVED_STATE_PREFIX!r}",
        )
    _check_retry(step.name, step.retry, error)
    _check_timeout(step.name, step.timeout, error)
    for target in step.targets():
        if target not in workflow._by_name:
            raise error(step.name, f"goes to unknown step {target!r}")
    for when in step.choices:
        if not check_path(when.path):
            raise error(step.name, f"choice path {when.path!r} must look like '$.field.sub'")
        if not (when.equals is None or isinstance(when.equals, str | int | float | bool)):
            raise error(step.name, f"a choice compares with a JSON scalar, not {when.equals!r}")
    if step.compensate is not None:
        comp = step.compensate
        if not isinstance(comp, Compensation):
            raise error(step.name, "compensate must be a Compensation")
        if comp.activity not in workflow.activities:
            raise error(step.name, f"unknown compensation activity {comp.activity!r}")
        _check_input(step.name, comp.input, error)
        _check_retry(step.name, comp.retry, error)
        _check_timeout(step.name, comp.timeout, error)


def _check_input(name: str, mapping: Mapping[str, Any] | None, error: Any) -> None:
    if mapping is None:
        return
    if not isinstance(mapping, Mapping):
        raise error(name, "input must be a mapping of parameter name to '$.path' or literal")
    for key, value in mapping.items():
        if not isinstance(key, str) or not key or key.endswith(".$"):
            raise error(name, f"input parameter names must be plain strings, got {key!r}")
        if is_path(value) and not check_path(value):
            raise error(name, f"input {key!r}: path {value!r} must look like '$.field.sub'")


def _check_retry(name: str, retry: Retry, error: Any) -> None:
    if not isinstance(retry, Retry):
        raise error(name, "retry must be a Retry")
    for what, value, lowest in (
        ("max_attempts", retry.max_attempts, 1),
        ("interval", retry.interval, 1),
        ("max_interval", retry.max_interval, 1),
    ):
        if type(value) is not int or value < lowest:
            raise error(name, f"retry {what} must be a whole number >= {lowest}, got {value!r}")
    if retry.max_interval < retry.interval:
        raise error(name, "retry max_interval must be >= interval")
    if not isinstance(retry.backoff_rate, int | float) or retry.backoff_rate < 1.0:
        raise error(name, f"retry backoff_rate must be >= 1.0, got {retry.backoff_rate!r}")


def _check_timeout(name: str, timeout: int | None, error: Any) -> None:
    if timeout is not None and (
        type(timeout) is not int or not 1 <= timeout <= MAX_TIMEOUT_SECONDS
    ):
        raise error(
            name, f"timeout must be whole seconds from 1 to {MAX_TIMEOUT_SECONDS}, got {timeout!r}"
        )


def _check_graph(workflow: Workflow, error: Any) -> None:
    # Depth-first from the start: a back edge is a cycle, and the compensation stack
    # reaching each step must be the same along every path.
    stacks = workflow.compensation_stack
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in visiting:
            raise error(name, "is part of a cycle; workflows must be acyclic")
        known = stacks.get(name)
        if known is not None and known != stack:
            raise error(
                name,
                "is reached by paths that completed different compensable steps "
                f"({', '.join(known) or 'none'} vs {', '.join(stack) or 'none'}); "
                "give every path to it the same compensations",
            )
        stacks[name] = stack
        if name in done:
            return
        visiting.add(name)
        step: AnyStep = workflow._by_name[name]
        after = (*stack, name) if isinstance(step, Step) and step.compensate else stack
        for target in step.targets():
            visit(target, after)
        visiting.discard(name)
        done.add(name)

    visit(workflow.start, ())
    for step in workflow.steps:
        if step.name not in done:
            raise error(step.name, f"is unreachable from the start step {workflow.start!r}")

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
    Map,
    Parallel,
    Retry,
    Step,
    Wait,
    WaitForEvent,
    When,
    WorkflowDefinitionError,
    check_name,
    check_path,
    is_path,
)

if TYPE_CHECKING:
    from statekit.workflows.definition import AnyStep, Workflow

MAX_TIMEOUT_SECONDS = 24 * 3600  # longer activities belong in their own workflow
# Waits may be long (Step Functions and Cloud Workflows runs last up to a year).
MAX_WAIT_SECONDS = 365 * 24 * 3600
STEP_TYPES = (Step, Fail, Wait, WaitForEvent, Parallel, Map)
NAME_RULE = "letters, digits and '_' (not '__'), starting with a letter, at most 64 characters"


def validate(workflow: Workflow) -> None:
    root = workflow.root
    where = f" (in the body {workflow.scope_path!r})" if workflow.scope_of else ""

    def error(step: str | None, rule: str) -> WorkflowDefinitionError:
        return WorkflowDefinitionError(str(root.name), step, rule + where)

    if not check_name(root.name):
        raise error(None, f"the workflow name must be {NAME_RULE}")
    if not workflow.steps:
        raise error(None, "a workflow (and each Parallel branch or Map body) needs a step")
    for activity in workflow.activities:
        if not isinstance(activity, str) or not activity:
            raise error(None, f"activity names must be non-empty strings, got {activity!r}")
    for step in workflow.steps:
        if not isinstance(step, STEP_TYPES):
            names = ", ".join(kind.__name__ for kind in STEP_TYPES)
            raise error(None, f"steps must be one of {names}, got {type(step).__name__}")
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
        elif isinstance(step, Fail):
            if not isinstance(step.error, str) or not step.error:
                raise error(step.name, "Fail needs an error name")
        else:
            _check_long_running(workflow, step, error)
    _check_graph(workflow, error)
    if workflow.scope_of is None:
        _check_unique_names(workflow, error)


def _check_output(name: str, output: str | None, error: Any) -> None:
    if output is not None and (not check_name(output) or output.startswith(RESERVED_STATE_PREFIX)):
        raise error(
            name,
            f"output {output!r} must be a state field name ({NAME_RULE}), "
            f"not starting with {RESERVED_STATE_PREFIX!r}",
        )


def _check_targets(workflow: Workflow, step: Any, error: Any) -> None:
    for target in step.targets():
        if target not in workflow._by_name:
            inside = (
                " (a body's steps go only to steps of the same body)" if workflow.scope_of else ""
            )
            raise error(step.name, f"goes to unknown step {target!r}{inside}")


def _check_choices(name: str, choices: Any, error: Any) -> None:
    for when in choices:
        if not isinstance(when, When):
            raise error(name, f"choices must be When, got {type(when).__name__}")
        if not check_path(when.path):
            raise error(name, f"choice path {when.path!r} must look like '$.field.sub'")
        if not (when.equals is None or isinstance(when.equals, str | int | float | bool)):
            raise error(name, f"a choice compares with a JSON scalar, not {when.equals!r}")


def _whole(value: object, lowest: int, highest: int) -> bool:
    return type(value) is int and lowest <= value <= highest


def _check_long_running(workflow: Workflow, step: Any, error: Any) -> None:
    """Wait, WaitForEvent, Parallel and Map; a body becomes its own Workflow (scope)."""
    from statekit.workflows.definition import Workflow as WorkflowType

    _check_targets(workflow, step, error)
    if isinstance(step, Wait):
        if (step.seconds is None) == (step.until is None):
            raise error(step.name, "Wait takes exactly one of seconds= or until=")
        if step.seconds is not None and not _whole(step.seconds, 1, MAX_WAIT_SECONDS):
            raise error(step.name, f"seconds must be whole seconds from 1 to {MAX_WAIT_SECONDS}")
        if step.until is not None and not check_path(step.until):
            raise error(step.name, f"until {step.until!r} must be a path like '$.release_at'")
        return
    if isinstance(step, WaitForEvent):
        if not check_name(step.event):
            raise error(step.name, f"event {step.event!r} must be {NAME_RULE}")
        if step.timeout is not None and not _whole(step.timeout, 1, MAX_WAIT_SECONDS):
            raise error(step.name, f"timeout must be whole seconds from 1 to {MAX_WAIT_SECONDS}")
        if step.on_timeout is not None and step.timeout is None:
            raise error(step.name, "on_timeout needs a timeout")
        _check_output(step.name, step.output, error)
        _check_choices(step.name, step.choices, error)
        return
    _check_output(step.name, step.output, error)
    root = workflow.root
    prefix = f"{workflow.scope_path}/" if workflow.scope_path else ""
    if isinstance(step, Parallel):
        if isinstance(step.branches, str) or not step.branches:
            raise error(step.name, "Parallel needs a list of branches, each a list of steps")
        bodies = {f"{step.name}.{index}": branch for index, branch in enumerate(step.branches)}
    else:
        assert isinstance(step, Map)
        if not check_path(step.items):
            raise error(step.name, f"items {step.items!r} must be a path like '$.seats'")
        if not _whole(step.max_concurrency, 0, 1000):
            raise error(step.name, "max_concurrency must be a whole number from 0 (no bound)")
        if not _whole(step.tolerated_failures, 0, 10**6):
            raise error(step.name, "tolerated_failures must be a whole number >= 0")
        bodies = {step.name: step.steps}
    for path, body in bodies.items():
        if isinstance(body, str | Step | Fail) or not isinstance(body, list | tuple):
            raise error(step.name, "a body is a list of steps")
        workflow.scopes[path] = WorkflowType(
            root.name,
            body,
            activities=root.implementations or root.activities,
            _scope=(root, prefix + path),
        )


def _check_step(workflow: Workflow, step: Step, error: Any) -> None:
    if step.activity not in workflow.activities:
        known = ", ".join(sorted(workflow.activities)) or "none"
        raise error(step.name, f"unknown activity {step.activity!r} (known: {known})")
    _check_input(step.name, step.input, error)
    _check_output(step.name, step.output, error)
    _check_retry(step.name, step.retry, error)
    _check_timeout(step.name, step.timeout, error)
    _check_targets(workflow, step, error)
    _check_choices(step.name, step.choices, error)
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


def _check_unique_names(workflow: Workflow, error: Any) -> None:
    """Step names are unique across the whole workflow, bodies included: ASL state names
    and Cloud Workflows step names share one namespace."""
    seen: set[str] = set()
    for step in workflow.all_steps():
        if step.name in seen:
            raise error(step.name, "two steps have this name (bodies included)")
        seen.add(step.name)

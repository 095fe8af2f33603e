"""Workflows: one definition in Python, run by Step Functions, Durable Functions,
Cloud Workflows or the local executor.

A ``Workflow`` is a graph of named steps over one JSON object, the *state*,
which starts as the workflow's input:

- ``Step`` calls a named activity with an input mapped from the state
  (``{"order_id": "$.order_id"}``; ``None`` passes the whole state), stores the
  result under ``output``, retries with backoff (``Retry``), bounds each attempt
  with ``timeout`` seconds, then goes to ``next`` or to the first matching
  ``When`` (a choice on the state, so on a step's result).
- ``Fail`` ends the run as a business failure.
- ``Compensation`` on a step undoes it: when a later step fails (or a ``Fail``
  is reached), the compensations of the completed steps run in reverse order
  (the saga pattern) and the run ends ``compensated``.

Definitions are validated when built, so a mistake is a ``WorkflowDefinitionError``
naming the step, not a broken deployment. ``open_workflows(url)`` returns the
client of the engine named by ``STATEKIT_WORKFLOW_URL`` (docs/urls.md).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from statekit.errors import StatekitError
from statekit.urls import url_from_env

WORKFLOW_URL_VARIABLE = "STATEKIT_WORKFLOW_URL"
DEFAULT_WORKFLOW_URL = "local://"

# Final and running statuses every engine is mapped onto.
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"  # a step failed and nothing was undone (or undoing failed)
COMPENSATED = "compensated"  # a step failed and every completed step was undone
FINAL_STATUSES = frozenset({SUCCEEDED, FAILED, COMPENSATED})

# Names are identifiers so that they are valid ASL state names, Cloud Workflows step
# names and Python names alike; "__" is kept for the states the renderers add.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# Run ids: what Step Functions accepts as an execution name, and safe in a store key.
_RUN_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$")
RESERVED_STATE_PREFIX = "statekit"


class WorkflowDefinitionError(StatekitError, ValueError):
    """A workflow definition is invalid; the message names the workflow and the step."""

    def __init__(self, workflow: str, step: str | None, rule: str) -> None:
        where = f"workflow {workflow!r}" + (f", step {step!r}" if step else "")
        super().__init__(f"{where}: {rule}")
        self.workflow = workflow
        self.step = step
        self.rule = rule


class WorkflowNotFound(StatekitError, KeyError):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"no workflow run with id {workflow_id!r}")
        self.workflow_id = workflow_id


class WorkflowIdInUse(StatekitError):
    """``start`` was called with an id already used by another workflow or another input."""

    def __init__(self, workflow_id: str, rule: str) -> None:
        super().__init__(f"workflow id {workflow_id!r} is already in use: {rule}")
        self.workflow_id = workflow_id


class WorkflowIdInvalid(StatekitError, ValueError):
    def __init__(self, workflow_id: object) -> None:
        super().__init__(f"invalid workflow id {workflow_id!r}: use 1 to 80 of A-Z a-z 0-9 _ . : -")
        self.workflow_id = workflow_id


class WorkflowTimeout(StatekitError, TimeoutError):
    """``result(id, wait=...)`` gave up before the run ended."""


class WorkflowFailed(StatekitError):
    """``result(id)`` of a run that ended ``failed`` or ``compensated``."""

    def __init__(self, workflow_id: str, status: str, error: Mapping[str, Any] | None) -> None:
        detail = ""
        if error:
            detail = f": step {error.get('step')!r} failed with {error.get('error')}: "
            detail += str(error.get("message", ""))
        super().__init__(f"workflow run {workflow_id!r} ended {status}{detail}")
        self.workflow_id = workflow_id
        self.status = status
        self.error = dict(error or {})


@dataclass(frozen=True)
class Retry:
    """Attempts of one step: ``max_attempts`` in all, waiting ``interval`` seconds before
    the second, multiplied by ``backoff_rate`` each time, at most ``max_interval``.

    Whole seconds, because Step Functions takes nothing finer.
    """

    max_attempts: int = 3
    interval: int = 1
    backoff_rate: float = 2.0
    max_interval: int = 60

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (2 or more)."""
        delay = self.interval * self.backoff_rate ** max(0, attempt - 2)
        return float(min(delay, self.max_interval))


NO_RETRY = Retry(max_attempts=1)


@dataclass(frozen=True)
class When:
    """Go to ``next`` when the value at ``path`` equals ``equals`` (a JSON scalar)."""

    path: str
    equals: str | int | float | bool | None
    next: str


@dataclass(frozen=True)
class Compensation:
    """The activity that undoes a completed step; its result is discarded."""

    activity: str
    input: Mapping[str, Any] | None = None
    retry: Retry = field(default_factory=lambda: Retry(max_attempts=3))
    timeout: int | None = None


@dataclass(frozen=True)
class Step:
    name: str
    activity: str
    input: Mapping[str, Any] | None = None
    output: str | None = None
    retry: Retry = NO_RETRY
    timeout: int | None = None
    next: str | None = None  # None: the run succeeds after this step (unless a When matches)
    choices: Sequence[When] = ()
    compensate: Compensation | None = None

    def targets(self) -> list[str]:
        return [when.next for when in self.choices] + ([self.next] if self.next else [])


@dataclass(frozen=True)
class Fail:
    """End the run as failed (after compensating the completed steps)."""

    name: str
    error: str
    message: str = ""

    def targets(self) -> list[str]:
        return []


AnyStep = Step | Fail


class Workflow:
    """A validated workflow definition; build it once at import time."""

    def __init__(
        self,
        name: str,
        steps: Iterable[AnyStep],
        *,
        activities: Iterable[str] | Mapping[str, Callable[[Any], Any]],
        start: str | None = None,
    ) -> None:
        if isinstance(activities, str):
            raise WorkflowDefinitionError(
                str(name), None, "activities must be a collection of names, not one string"
            )
        self.name = name
        self.steps: tuple[AnyStep, ...] = tuple(steps)
        self.activities = frozenset(activities)
        # Implementations, when given as a mapping: the local executor calls them.
        self.implementations: dict[str, Callable[[Any], Any]] = (
            dict(activities) if isinstance(activities, Mapping) else {}
        )
        self.start = start if start is not None else (self.steps[0].name if self.steps else "")
        self._by_name: dict[str, AnyStep] = {}
        # For every step: the compensable steps completed before it, oldest first.
        self.compensation_stack: dict[str, tuple[str, ...]] = {}
        from statekit.workflows.validation import validate

        validate(self)

    def step(self, name: str) -> AnyStep:
        return self._by_name[name]

    def compensation_before(self, name: str) -> str | None:
        """The compensable step completed just before ``name``'s compensation runs."""
        stack = self.compensation_stack[name]
        return stack[-1] if stack else None

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, {len(self.steps)} steps)"


# -- state paths, shared by the local executor and the Durable orchestrator ---------------
def is_path(value: object) -> bool:
    return isinstance(value, str) and value.startswith("$")


def check_path(path: object) -> bool:
    return isinstance(path, str) and bool(_PATH.match(path))


def check_name(name: object) -> bool:
    return isinstance(name, str) and bool(_NAME.match(name)) and "__" not in name


def check_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise WorkflowIdInvalid(run_id)
    return run_id


def read_path(state: Any, path: str) -> Any:
    """The value at ``$.a.b`` in ``state``; a missing field is a ``KeyError`` naming it."""
    value = state
    for part in path.split(".")[1:]:
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(f"{path}: no field {part!r}")
        value = value[part]
    return value


def map_input(state: Any, mapping: Mapping[str, Any] | None) -> Any:
    """An activity's input: the whole state, or each path read and each literal copied."""
    if mapping is None:
        return state
    return {
        key: read_path(state, value) if is_path(value) else value for key, value in mapping.items()
    }


def matches(value: Any, expected: str | int | float | bool | None) -> bool:
    """JSON equality: true is not 1, 1 is 1.0 (as in ASL and Cloud Workflows)."""
    if isinstance(expected, bool) or expected is None or isinstance(value, bool):
        return type(value) is type(expected) and value == expected
    if isinstance(expected, int | float):
        return isinstance(value, int | float) and value == expected
    return isinstance(value, str) and value == expected


def choose_next(step: Step, state: Any) -> str | None:
    for when in step.choices:
        if matches(read_path(state, when.path), when.equals):
            return when.next
    return step.next


# "Outer: Inner: message": exception names a runtime wraps around an activity's own.
_ERROR_CHAIN = re.compile(
    r"\b((?:[A-Z][A-Za-z0-9_.]*(?:Failed|Error|Exception|Timeout|Declined): )+)(.+)"
)


def named_error(text: str) -> tuple[str, str] | None:
    """``("CreateShipmentFailed", "no carrier")`` from text such as
    ``"Activity 'x' failed: ActivityFailed: CreateShipmentFailed: no carrier"``:
    the innermost name wins, since runtimes prefix their own."""
    found = _ERROR_CHAIN.search(text)
    if not found:
        return None
    names = [name for name in found.group(1).split(": ") if name]
    return names[-1], found.group(2).strip()


def activity_envelope(activity: str, payload: Any) -> dict[str, Any]:
    """What every engine sends to an activity function: one dispatcher serves them all."""
    return {"activity": activity, "input": payload}


# -- the client --------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkflowRun:
    """Status of one run, the same on every engine."""

    id: str
    workflow: str
    status: str  # running, succeeded, failed, compensated
    output: Any = None
    error: Mapping[str, Any] | None = None  # {"step", "error", "message"} when not succeeded
    # The compensation activities that ran, in order, where the engine reports them.
    compensated: Sequence[str] = ()

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES


class WorkflowClient(Protocol):
    def start(self, workflow: Workflow | str, input: Any, id: str) -> WorkflowRun: ...

    def status(self, id: str) -> WorkflowRun: ...

    def result(self, id: str, wait: float = 0.0) -> Any: ...


def workflow_name(workflow: Workflow | str) -> str:
    return workflow if isinstance(workflow, str) else workflow.name


def result_of(run: WorkflowRun) -> Any:
    """The output of a finished run, or ``WorkflowFailed``."""
    if run.status == SUCCEEDED:
        return run.output
    raise WorkflowFailed(run.id, run.status, run.error)


def wait_for_result(
    status: Callable[[str], WorkflowRun],
    id: str,
    wait: float,
    *,
    first_delay: float = 0.1,
    max_delay: float = 2.0,
) -> Any:
    """Every client's ``result(id, wait=...)``: poll ``status`` with backoff until the run ends.

    Returns the output of a succeeded run, raises ``WorkflowFailed`` for one that
    ended otherwise and ``WorkflowTimeout`` when ``wait`` seconds pass first.
    """
    deadline = time.monotonic() + wait
    delay = first_delay
    while True:
        run = status(id)
        if run.done:
            return result_of(run)
        if time.monotonic() >= deadline:
            raise WorkflowTimeout(f"workflow run {id!r} is still {run.status} after {wait} s")
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, max_delay)


def open_workflows(url: str | None = None) -> WorkflowClient:
    """The workflow engine named by ``url``, or ``$STATEKIT_WORKFLOW_URL``, or the local one."""
    from statekit.registry import open_backend

    source = "url"
    if url is None:
        url, source = url_from_env(WORKFLOW_URL_VARIABLE, DEFAULT_WORKFLOW_URL)
    client: WorkflowClient = open_backend("workflows", url, source)
    return client


ActivityTarget = str | Callable[[str], str]  # one ARN/URL for all activities, or one per name


def target_for(target: ActivityTarget) -> Callable[[str], str]:
    if isinstance(target, str):
        return lambda _activity: target
    return target

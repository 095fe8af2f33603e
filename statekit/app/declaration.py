"""``App``: a team's functions and workflows, declared once; the kit deploys, serves and compares it.

Which App: ``resolve_app()`` reads ``$STATEKIT_APP``, else the environment
file's ``app = "pkg.module:APP"``, else the example's ``handlers.app:APP``;
``load_app`` imports it and validates it, so a mistake is an ``AppError``
naming the field before any construct is made or any request is served.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from statekit.app.activities import Activity, registered
from statekit.app.errors import AppError
from statekit.app.functions import HANDLER, Function, Http, QueueConsumer, Schedule
from statekit.app.resolve import import_module, import_object, resolve_callable

if TYPE_CHECKING:
    from statekit.workflows import Workflow

APP_VARIABLE = "STATEKIT_APP"
FUNCTION_VARIABLE = "STATEKIT_FUNCTION"
DEFAULT_APP = "handlers.app:APP"
ACTIVITY_FUNCTION = "activities"  # the function the kit adds to run workflow activities
APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,20}$")
_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class App:
    """A serverless app: ``name`` names every resource (``<name>-<env>-...``)."""

    activities: str = ACTIVITY_FUNCTION

    def __init__(
        self,
        name: str,
        *,
        code: Sequence[str],
        functions: Iterable[Function] = (),
        workflows: Iterable[Workflow] = (),
        activities: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.code: tuple[str, ...] = (code,) if isinstance(code, str) else tuple(code)
        self.functions: tuple[Function, ...] = tuple(functions)
        self.workflows: tuple[Workflow, ...] = tuple(workflows)
        # Activity name -> "pkg.module:function", besides @statekit.app.activity.
        self.activity_map: dict[str, str] = dict(activities or {})

    def __repr__(self) -> str:
        return (
            f"App({self.name!r}, {len(self.functions)} functions, {len(self.workflows)} workflows)"
        )

    # -- what it declares --------------------------------------------------------------
    def function(self, name: str) -> Function:
        for function in self.functions:
            if function.name == name:
                return function
        known = ", ".join(f.name for f in self.functions) or "none"
        raise AppError(f"app {self.name!r}: no function named {name!r} (declared: {known})")

    @property
    def http(self) -> tuple[Http, ...]:
        return tuple(f for f in self.functions if isinstance(f, Http))

    @property
    def queue_consumers(self) -> tuple[QueueConsumer, ...]:
        return tuple(f for f in self.functions if isinstance(f, QueueConsumer))

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        return tuple(f for f in self.functions if isinstance(f, Schedule))

    def workflow(self, name: str) -> Workflow:
        for workflow in self.workflows:
            if workflow.name == name:
                return workflow
        raise AppError(f"app {self.name!r}: no workflow named {name!r}")

    def activity_names(self) -> list[str]:
        """Every activity any of the workflows calls (compensations included), sorted."""
        return sorted({name for workflow in self.workflows for name in workflow.activities})

    def function_names(self) -> list[str]:
        """The cloud functions the App needs: the declared ones, then ``activities`` if any."""
        names = [f.name for f in self.functions]
        return [*names, ACTIVITY_FUNCTION] if self.workflows else names

    # -- resolving code ----------------------------------------------------------------
    def handler(self, function_name: str) -> Callable[..., Any]:
        """The callable behind a declared function (``activities``: the activity dispatcher)."""
        if function_name == ACTIVITY_FUNCTION and self.workflows:
            return self.run_activity
        index = self.functions.index(self.function(function_name))
        function = self.functions[index]
        fn: Callable[..., Any] = resolve_callable(
            function.handler, f"functions[{index}] {function.name!r}: handler"
        )
        return fn

    def activity_handler(self, name: str) -> Activity:
        """The function run for activity ``name``; ``AppError`` when the App defines none."""
        if name in self.activity_map:
            fn: Activity = resolve_callable(self.activity_map[name], f"activities[{name!r}]")
            return fn
        found = registered(name, self.code)
        if len(found) > 1:
            where = ", ".join(f"{f.__module__}.{f.__qualname__}" for f in found)
            raise AppError(f"activity {name!r} is registered more than once ({where})")
        if found:
            return found[0]
        for workflow in self.workflows:
            if name in workflow.implementations:
                return workflow.implementations[name]
        raise AppError(
            f"activity {name!r} is not defined: decorate a function in the app's code "
            f"({', '.join(self.code)}) with @statekit.app.activity({name!r}), "
            "or map it in App(activities={...})"
        )

    def run_activity(self, envelope: Any) -> Any:
        """``{"activity": name, "input": ...}`` (what every engine sends) -> the result."""
        if not isinstance(envelope, Mapping) or not isinstance(envelope.get("activity"), str):
            raise AppError(
                f"activity call: expected {{'activity': name, 'input': ...}}, got {envelope!r}"
            )
        return self.activity_handler(envelope["activity"])(envelope.get("input"))

    def bind_activities(self) -> App:
        """Give each workflow the functions of its activities, so that the local executor
        (``statekit dev``, tests) runs decorator-registered ones too; the cloud engines
        call the activity function instead."""
        for workflow in self.workflows:
            for name in workflow.activities:
                if name not in workflow.implementations:
                    workflow.implementations[name] = self.activity_handler(name)
        return self

    # -- checks ------------------------------------------------------------------------
    def validate(self, import_handlers: bool = True) -> App:
        """Raise ``AppError`` naming the first wrong field; with ``import_handlers``, also
        import every handler and activity. Returns the App, so ``APP.validate()`` chains."""
        from statekit.workflows import Workflow

        if not isinstance(self.name, str) or not APP_NAME.match(self.name):
            raise AppError(
                f"App name {self.name!r}: expected a lower-case letter then 1 to 20 of a-z 0-9 - "
                "(it names every resource: <name>-<env>-...)"
            )
        where = f"app {self.name!r}"
        if not self.code:
            raise AppError(f"{where}: code: name at least one package to ship, e.g. code=['myapp']")
        for index, package in enumerate(self.code):
            if not isinstance(package, str) or not _PACKAGE.match(package):
                raise AppError(
                    f"{where}: code[{index}] {package!r}: expected a top-level package name "
                    "(no dots, no paths)"
                )
            if import_handlers and importlib.util.find_spec(package) is None:
                raise AppError(f"{where}: code[{index}] {package!r}: no such package on sys.path")
        if not self.functions and not self.workflows:
            raise AppError(f"{where}: declares no functions and no workflows")
        seen: dict[str, int] = {}
        for index, function in enumerate(self.functions):
            if not isinstance(function, Function) or type(function) is Function:
                raise AppError(
                    f"{where}: functions[{index}]: expected Http, QueueConsumer or Schedule, "
                    f"got {function!r}"
                )
            label = f"functions[{index}] {function.name!r}"
            for problem in function.problems():
                raise AppError(f"{label}: {problem}")
            if function.name == ACTIVITY_FUNCTION:
                raise AppError(
                    f"{label}: the name {ACTIVITY_FUNCTION!r} is reserved for the function the "
                    "kit adds to run workflow activities"
                )
            if function.name in seen:
                raise AppError(
                    f"{label}: duplicate function name (also functions[{seen[function.name]}])"
                )
            seen[function.name] = index
            if import_handlers:
                self.handler(function.name)
        workflow_names: dict[str, int] = {}
        for index, workflow in enumerate(self.workflows):
            if not isinstance(workflow, Workflow):
                raise AppError(
                    f"{where}: workflows[{index}]: expected a statekit.workflows.Workflow, "
                    f"got {type(workflow).__name__}"
                )
            if workflow.name in workflow_names:
                raise AppError(
                    f"{where}: workflows[{index}] {workflow.name!r}: duplicate workflow name "
                    f"(also workflows[{workflow_names[workflow.name]}])"
                )
            workflow_names[workflow.name] = index
            if workflow.name in seen:
                raise AppError(
                    f"{where}: workflows[{index}] {workflow.name!r}: also the name of "
                    f"functions[{seen[workflow.name]}] (Azure names a workflow's orchestrator "
                    "function after the workflow, beside the declared functions)"
                )
        for name, spec in self.activity_map.items():
            if not isinstance(spec, str) or not HANDLER.match(spec):
                raise AppError(
                    f"{where}: activities[{name!r}] {spec!r}: expected 'package.module:function'"
                )
        if import_handlers:
            for index, workflow in enumerate(self.workflows):
                for name in sorted(workflow.activities):
                    try:
                        self.activity_handler(name)
                    except AppError as exc:
                        raise AppError(f"workflows[{index}] {workflow.name!r}: {exc}") from None
        return self


def resolve_app(configured: str | None = None) -> str:
    """Which App: ``$STATEKIT_APP``, else ``configured`` (the environment's ``app``), else the example."""
    return os.environ.get(APP_VARIABLE) or configured or DEFAULT_APP


def load_app(spec: str, *, validate: bool = True) -> App:
    """Import ``"pkg.module:APP"`` and validate it; ``AppError`` naming what is wrong."""
    where = f"app {spec!r}"
    if not isinstance(spec, str) or not HANDLER.match(spec):
        raise AppError(f"{where}: expected 'package.module:NAME', such as 'booking.app:APP'")
    module_name = spec.partition(":")[0]
    import_module(module_name, where)
    value = import_object(spec, "app")
    if not isinstance(value, App):
        raise AppError(f"{where}: names a {type(value).__name__}, not a statekit.app.App")
    return value.validate().bind_activities() if validate else value

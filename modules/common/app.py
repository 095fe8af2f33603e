"""The App a stack deploys, as the constructs see it: its reference, its functions, its workflows.

``AppSource.load("booking.app:APP")`` loads and validates the App (``statekit.app``)
before any construct is made. ``deployed_functions`` turns its declaration into the
functions each cloud builds: every declared function with its trigger, plus the
activity function the kit adds when the App has workflows, each with its memory and
timeout (the App's, else the environment's ``[functions]``) and the environment
variables the runtime reads (``STATEKIT_APP``, ``STATEKIT_FUNCTION``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from statekit.app import (
    APP_VARIABLE,
    FUNCTION_VARIABLE,
    AppError,
    code_fingerprint,
    file_fingerprint,
    load_app,
    resolve_app,
)

from .package import code_packages
from .settings import StackSettings

if TYPE_CHECKING:
    from statekit.app import App

Kind = Literal["http", "queue", "schedule", "activity"]


@dataclass(frozen=True)
class DeployedFunction:
    """One function of the stack: a declared one or the kit's activity function."""

    name: str  # the declared name, or App.activities
    kind: Kind
    memory_mb: int
    timeout_s: int
    permissions: tuple[str, ...] = ()
    public: bool = False  # http only: anonymous callers allowed
    batch_size: int = 10  # queue only
    cron: str = ""  # schedule only: 5-field UTC cron

    def environment(self, app_ref: str) -> dict[str, str]:
        return {APP_VARIABLE: app_ref, FUNCTION_VARIABLE: self.name}


@dataclass(frozen=True)
class AppSource:
    """An App and the reference it was loaded from (the functions import it by that)."""

    ref: str  # "pkg.module:APP", set as STATEKIT_APP on every function
    app: App

    @classmethod
    def load(cls, ref: str) -> AppSource:
        """Load and validate ``ref``; ``statekit.app.AppError`` names what is wrong."""
        app = load_app(ref)
        consumers = [function.name for function in app.functions if function.kind == "queue"]
        if len(consumers) > 1:
            raise AppError(
                f"app {ref!r}: functions {consumers}: a stack has one queue, so at most one "
                "QueueConsumer (Pub/Sub would give each its own copy of every message)"
            )
        return cls(ref, app)

    @classmethod
    def resolve(cls, configured: str | None = None) -> AppSource:
        """``$STATEKIT_APP``, else ``configured`` (the environment file's ``app``), else the default."""
        return cls.load(resolve_app(configured or None))

    @property
    def name(self) -> str:
        return str(self.app.name)

    @property
    def packages(self) -> list[str]:
        """The top-level packages every function package holds: the App's code and statekit."""
        return code_packages(self.app.code)

    @property
    def workflows(self) -> list[Any]:
        return list(self.app.workflows)

    def code_fingerprint(self) -> str:
        """``statekit.app.code_fingerprint``: what ``statekit compare`` recomputes."""
        return code_fingerprint(self.app)

    def functions(self, settings: StackSettings, *, workflows_on: bool) -> list[DeployedFunction]:
        return deployed_functions(self.app, settings, workflows_on=workflows_on)


def deployed_functions(
    app: App, settings: StackSettings, *, workflows_on: bool
) -> list[DeployedFunction]:
    """Every declared function, then the activity function if there are workflows to run."""
    defaults = settings.functions
    functions = [
        DeployedFunction(
            name=function.name,
            kind=cast(Kind, function.kind),
            memory_mb=function.memory_mb or defaults.memory_mb,
            timeout_s=function.timeout_s or defaults.timeout_seconds,
            permissions=tuple(function.permissions),
            public=bool(getattr(function, "public", False)),
            batch_size=int(getattr(function, "batch_size", 10)),
            cron=str(getattr(function, "cron", "")),
        )
        for function in app.functions
    ]
    if app.workflows and workflows_on:
        functions.append(
            DeployedFunction(
                name=app.activities,
                kind="activity",
                memory_mb=defaults.memory_mb,
                timeout_s=defaults.timeout_seconds,
            )
        )
    return functions


def environment_fingerprint(settings: StackSettings) -> str:
    """A hash of the environment file the stack was synthesized from ("" when it has none)."""
    path = Path(settings.source) if settings.source else None
    if path is None or not path.is_file():
        return ""
    return file_fingerprint(path)

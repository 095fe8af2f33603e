"""The functions an App declares: an HTTP API, a queue consumer, a schedule.

Each is plain data (checked by ``App.validate``); the IaC side makes one cloud
function per declared function with its trigger, and the runtime adapters call
its handler with the portable arguments:

- ``Http``: ``(Request) -> Response`` for every path under the function;
- ``QueueConsumer``: ``(statekit.queue.Message) -> None``; raising marks it failed;
- ``Schedule``: ``() -> None``, at ``cron`` (5 fields, UTC).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from statekit.app.cron import Cron, parse_cron
from statekit.app.errors import AppError

FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
MEMORY_MB = (128, 10240)  # the bounds of the environment's [functions] memory_mb
TIMEOUT_S = (1, 900)  # Lambda's ceiling; the IaC side clamps to a plan's lower one
BATCH_SIZE = (1, 10)  # SQS's batch without a batching window

# Capabilities a function may need beyond the stack's state, by portable name: the IaC
# side grants each cloud's equivalent (modules/*: the role, the managed identity, the
# service account). A name not listed here is an AppError.
PERMISSIONS: dict[str, str] = {
    "send_email": "send e-mail (Amazon SES; Azure Communication Services Email; "
    "on GCP no service role: a mail API key in Secret Manager)",
}


@dataclass(frozen=True)
class Function:
    """What every declared function has; use ``Http``, ``QueueConsumer`` or ``Schedule``."""

    kind: ClassVar[str] = ""

    name: str
    handler: str
    memory_mb: int | None = None
    timeout_s: int | None = None
    permissions: tuple[str, ...] = field(default=())

    def problems(self) -> Iterable[str]:
        """What is wrong with the declared values (no import made)."""
        if not isinstance(self.name, str) or not FUNCTION_NAME.match(self.name):
            yield (f"name {self.name!r}: expected a lower-case letter then up to 30 of a-z 0-9 -")
        if not isinstance(self.handler, str) or not HANDLER.match(self.handler):
            yield f"handler {self.handler!r}: expected 'package.module:function'"
        yield from _bounded("memory_mb", self.memory_mb, MEMORY_MB)
        yield from _bounded("timeout_s", self.timeout_s, TIMEOUT_S)
        if isinstance(self.permissions, str) or not isinstance(self.permissions, tuple | list):
            yield (
                f"permissions {self.permissions!r}: expected a tuple of names, "
                f"such as ('send_email',)"
            )
        else:
            for permission in self.permissions:
                if permission not in PERMISSIONS:
                    yield (
                        f"permissions: unknown permission {permission!r} "
                        f"(known: {', '.join(sorted(PERMISSIONS))})"
                    )


@dataclass(frozen=True)
class Http(Function):
    """An HTTP API; ``public=False`` needs the cloud's identity (IAM, Entra/keys, IAM invoker)."""

    kind: ClassVar[str] = "http"

    public: bool = False

    def problems(self) -> Iterable[str]:
        yield from super().problems()
        if not isinstance(self.public, bool):
            yield f"public {self.public!r}: expected True or False"


@dataclass(frozen=True)
class QueueConsumer(Function):
    """The consumer of the stack's queue; a raised error fails only its message."""

    kind: ClassVar[str] = "queue"

    batch_size: int = 10

    def problems(self) -> Iterable[str]:
        yield from super().problems()
        if self.batch_size is None:
            yield f"batch_size None: expected {BATCH_SIZE[0]} to {BATCH_SIZE[1]}"
        else:
            yield from _bounded("batch_size", self.batch_size, BATCH_SIZE)


@dataclass(frozen=True)
class Schedule(Function):
    """A job run at ``cron`` (5 fields, UTC) on every cloud."""

    kind: ClassVar[str] = "schedule"

    cron: str = ""

    def problems(self) -> Iterable[str]:
        yield from super().problems()
        try:
            parse_cron(self.cron, "cron")
        except AppError as exc:
            yield str(exc)

    @property
    def parsed(self) -> Cron:
        return parse_cron(self.cron, f"function {self.name!r}: cron")

    @property
    def eventbridge_cron(self) -> str:
        """``cron(0 3 * * ? *)``: EventBridge Scheduler's expression."""
        return self.parsed.eventbridge()

    @property
    def ncrontab(self) -> str:
        """``0 0 3 * * *``: the Azure timer trigger's 6-field schedule."""
        return self.parsed.ncrontab()

    @property
    def unix_cron(self) -> str:
        """``0 3 * * *``: Cloud Scheduler's schedule (time zone UTC)."""
        return self.parsed.unix()


def _bounded(name: str, value: object, bounds: tuple[int, int]) -> Iterable[str]:
    if value is None:
        return
    low, high = bounds
    if type(value) is not int or not low <= value <= high:
        yield f"{name} {value!r}: expected a whole number from {low} to {high} (or None)"

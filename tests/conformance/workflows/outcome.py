"""The observable end of one saga run, the same shape for every engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    status: str
    output: Any = None
    failed_step: str | None = None
    error: Any = None  # the portable error: {"step", "error", "message"}
    # Compensation activities that ran, in order, as the engine reports them.
    compensations: tuple[str, ...] = ()
    # Every activity attempt, in order, as the engine's own trace shows it.
    calls: list[str] = field(default_factory=list)
    # The envelope each attempt received, where the engine's trace shows it.
    inputs: list[Any] = field(default_factory=list)
    seconds: float = 0.0

"""One structured record per state mutation, through the standard ``logging`` module.

The operator chooses the level with ``$STATEKIT_MUTATION_LOG_LEVEL`` (default
INFO) and enables it like any logger (``logging.getLogger("statekit.mutations")``);
a record is the JSON object the example app's logs use: ``event``, ``key``,
``operation``, ``etag``, ``outcome``, ``correlation_id``. Never a value.
"""

from __future__ import annotations

import json
import logging
import os
import time

from statekit.observability.context import current_correlation_id

LOGGER = logging.getLogger("statekit.mutations")
LEVEL_VARIABLE = "STATEKIT_MUTATION_LOG_LEVEL"


def level() -> int:
    name = os.environ.get(LEVEL_VARIABLE, "INFO").strip().upper()
    value = logging.getLevelName(name)
    return value if isinstance(value, int) else logging.INFO


def enabled() -> bool:
    return LOGGER.isEnabledFor(level())


def record(
    backend: str, *, operation: str, key: str, etag: str | None, outcome: str, at: int
) -> None:
    """Log one mutation at the chosen level (checked again: the operator may change it)."""
    if not LOGGER.isEnabledFor(at):
        return
    LOGGER.log(
        at,
        json.dumps(
            {
                "event": "state_mutation",
                "time": round(time.time(), 3),
                "backend": backend,
                "operation": operation,
                "key": key,
                "etag": etag,
                "outcome": outcome,
                "correlation_id": current_correlation_id(),
            },
            separators=(",", ":"),
        ),
    )

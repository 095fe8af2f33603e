"""Structured JSON logs with a correlation id carried across requests, messages and steps.

The id comes from the caller (``X-Correlation-Id``) or is made at the edge by
statekit's runtime, then travels inside queue messages and workflow input so one
order's lines can be found together on any cloud's log service. The app reads
and writes it through statekit.app, so the runtime's id is the app's id.
"""

from __future__ import annotations

from statekit.app.correlation import (
    CORRELATION_HEADER,
    correlation,
    current_correlation_id,
    new_correlation_id,
)
from statekit.runtime.logs import JsonFormatter, get_logger, log

__all__ = [
    "CORRELATION_HEADER",
    "JsonFormatter",
    "correlation",
    "current_correlation_id",
    "get_logger",
    "log",
    "new_correlation_id",
]

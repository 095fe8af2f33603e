"""Structured JSON logs with a correlation id carried across requests, messages and steps.

The id comes from the caller (``X-Correlation-Id``) or is made at the edge, then
travels inside queue messages and workflow input so one order's lines can be
found together on any cloud's log service.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CORRELATION_HEADER = "x-correlation-id"
_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation", default=None
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "correlation_id": _correlation.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        return json.dumps(line, default=str)


def get_logger(name: str = "statekit.app") -> logging.Logger:
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def log(event: str, **fields: Any) -> None:
    get_logger().info(event, extra={"fields": fields})


def current_correlation_id() -> str:
    value = _correlation.get()
    if value is None:
        value = new_correlation_id()
        _correlation.set(value)
    return value


def new_correlation_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def correlation(correlation_id: str | None) -> Iterator[str]:
    """Run a block under ``correlation_id`` (a fresh one when None or not a sane string)."""
    if not isinstance(correlation_id, str) or not 0 < len(correlation_id) <= 128:
        correlation_id = new_correlation_id()
    token = _correlation.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _correlation.reset(token)

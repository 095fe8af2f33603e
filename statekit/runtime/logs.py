"""One JSON object per log line, with the correlation id of the call in progress.

Every cloud's log service parses JSON lines (CloudWatch Logs Insights, Azure
Monitor, Cloud Logging), so one call's lines can be found together anywhere.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from statekit.app.correlation import peek_correlation_id

LOGGER = "statekit.app"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "severity": record.levelname,  # the field Cloud Logging reads a level from
            "logger": record.name,
            "msg": record.getMessage(),
            "correlation_id": peek_correlation_id(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        return json.dumps(line, default=str)


def get_logger(name: str = LOGGER) -> logging.Logger:
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


def log_error(event: str, exc: BaseException, **fields: Any) -> None:
    get_logger().error(event, exc_info=exc, extra={"fields": fields})

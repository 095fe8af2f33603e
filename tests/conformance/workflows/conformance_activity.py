"""The activity function of the long-running conformance cases, for functions-framework
(the Cloud Workflows engine): ``{"activity", "input"}`` in, JSON out, 500 with
``{"error", "message"}`` when the activity fails, one JSON log line per call."""

from __future__ import annotations

import json
from typing import Any

import functions_framework

from tests.conformance.workflows.long_running import run_activity

JSON_HEADERS = {"Content-Type": "application/json"}


@functions_framework.http
def statekit_activity(request: Any) -> tuple[str, int, dict[str, str]]:
    envelope = request.get_json(silent=True) or {}
    name = envelope.get("activity")
    try:
        result = run_activity(envelope)
    except Exception as exc:
        line = {"severity": "WARNING", "activity": name, "outcome": "failed"}
        print(json.dumps(line), flush=True)
        error = getattr(exc, "error", type(exc).__name__)
        return (
            json.dumps({"error": error, "message": getattr(exc, "message", str(exc))}),
            500,
            JSON_HEADERS,
        )
    print(json.dumps({"severity": "INFO", "activity": name, "outcome": "succeeded"}), flush=True)
    return json.dumps(result), 200, JSON_HEADERS

"""Cloud Functions (2nd gen) HTTP function serving every activity of the app's workflows.

Cloud Workflows posts ``{"activity": name, "input": ...}`` (statekit's
envelope) to this one function. A result is 200 with JSON; a failure is 500
with ``{"error", "message"}``, which the workflow's retry policy retries and
its ``except`` turns into compensation. One JSON log line per call goes to
stdout, which Cloud Logging parses (and tests read).

Run locally: ``functions-framework --source handlers/gcp_activity.py
--target statekit_activity --host 127.0.0.1 --port 8080`` with the repository
root on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
from typing import Any

import functions_framework

from handlers.activities import ActivityFailed, run_activity

JSON_HEADERS = {"Content-Type": "application/json"}


def log(severity: str, activity: object, outcome: str, **fields: Any) -> None:
    line = {"severity": severity, "message": f"activity {activity} {outcome}", "activity": activity}
    print(json.dumps({**line, "outcome": outcome, **fields}), flush=True)


@functions_framework.http
def statekit_activity(request: Any) -> tuple[str, int, dict[str, str]]:
    envelope = request.get_json(silent=True)
    name = envelope.get("activity") if isinstance(envelope, dict) else None
    try:
        result = run_activity(envelope)
    except ActivityFailed as exc:
        log("WARNING", name, "failed", error=exc.error)
        return json.dumps({"error": exc.error, "message": exc.message}), 500, JSON_HEADERS
    log("INFO", name, "succeeded")
    return json.dumps(result), 200, JSON_HEADERS

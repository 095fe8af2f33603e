"""Bring your own app: declare functions and workflows once; the kit deploys, serves
and compares them (docs/app.md).

``declaration`` holds ``App`` and how one is chosen and loaded, ``functions`` the
declared function kinds, ``cron`` the portable schedule rules, ``http`` the portable
request and response, ``activities`` the activity registry, ``correlation`` the id
kept across hops, ``fingerprint`` what a synthesized stack records of the App.
Pure Python: no cloud SDK is imported here (the adapters are statekit.runtime).
"""

from statekit.app.activities import activity
from statekit.app.correlation import (
    CORRELATION_HEADER,
    correlation,
    current_correlation_id,
    new_correlation_id,
)
from statekit.app.cron import Cron, parse_cron
from statekit.app.declaration import (
    ACTIVITY_FUNCTION,
    APP_VARIABLE,
    DEFAULT_APP,
    FUNCTION_VARIABLE,
    App,
    load_app,
    resolve_app,
)
from statekit.app.errors import AppError
from statekit.app.fingerprint import code_fingerprint, file_fingerprint
from statekit.app.functions import PERMISSIONS, Function, Http, QueueConsumer, Schedule
from statekit.app.http import BadRequest, Request, Response
from statekit.app.task_token import current_task_token

__all__ = [
    "ACTIVITY_FUNCTION",
    "APP_VARIABLE",
    "CORRELATION_HEADER",
    "DEFAULT_APP",
    "FUNCTION_VARIABLE",
    "PERMISSIONS",
    "App",
    "AppError",
    "BadRequest",
    "Cron",
    "Function",
    "Http",
    "QueueConsumer",
    "Request",
    "Response",
    "Schedule",
    "activity",
    "code_fingerprint",
    "correlation",
    "current_correlation_id",
    "current_task_token",
    "file_fingerprint",
    "load_app",
    "new_correlation_id",
    "parse_cron",
    "resolve_app",
]

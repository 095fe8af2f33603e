"""Launcher: moto server whose DynamoDB requests run one at a time (see dynamodb.py).

Run as a script (``python -P _moto_atomic_dynamodb.py PORT``: ``-P`` keeps this folder,
whose moto.py would shadow the moto package, off ``sys.path``); it imports only moto
and werkzeug.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

_dynamodb_lock = threading.Lock()


def atomic_dynamodb(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Serialize DynamoDB requests (X-Amz-Target ``DynamoDB_*``); other services stay concurrent."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with _dynamodb_lock:
                return list(app(environ, start_response))  # the whole response, under the lock
        return app(environ, start_response)

    return wrapped


def main() -> None:
    port = int(sys.argv[1])
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1",
        port,
        atomic_dynamodb(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()

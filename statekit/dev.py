"""``statekit dev``: the example app on a laptop, all on the embedded default.

Serves the app's HTTP API on 127.0.0.1 (``handlers.http``), runs a queue
worker that consumes order events like the clouds' queue triggers do (failed
messages come back after their visibility timeout and reach the dead-letter
queue after ``max_attempts``), and runs sagas on the local workflow executor.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

WORKER_VISIBILITY_SECONDS = 2
WORKER_WAIT_SECONDS = 0.5


class DevServer:
    """The app's API and its queue worker, in background threads of this process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, *, worker: bool = True) -> None:
        from handlers.app import get_app

        self.app = get_app()
        self.app.seed_products()
        self._stop = threading.Event()
        self.httpd = ThreadingHTTPServer((host, port), _handler_class(self.app))
        self.httpd.daemon_threads = True
        self._threads = [
            threading.Thread(target=self.httpd.serve_forever, name="statekit-http", daemon=True)
        ]
        if worker:
            self._threads.append(
                threading.Thread(target=self._work, name="statekit-worker", daemon=True)
            )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DevServer:
        for thread in self._threads:
            thread.start()
        # The local workflow executor's driver: runs left waiting or interrupted by the
        # last stop go on at once (timers, approvals), not only when the next one starts.
        run_in_background = getattr(self.app.workflows, "run_in_background", None)
        if run_in_background is not None:
            run_in_background()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def _work(self) -> None:
        from handlers.consumer import consume

        queue = self.app.queue
        while not self._stop.is_set():
            messages = queue.receive(
                max_messages=10, wait=WORKER_WAIT_SECONDS, visibility=WORKER_VISIBILITY_SECONDS
            )
            if not messages:
                continue
            failed = set(consume((m.id, json.dumps(m.body)) for m in messages))
            for message in messages:
                if message.id not in failed:
                    queue.ack(message)
            # Failed ones are left alone: they come back after the visibility timeout,
            # and after max_attempts the queue moves them to its dead-letter queue.


def _handler_class(app: Any) -> type[BaseHTTPRequestHandler]:
    from handlers.http import Request, handle

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            response = handle(
                app,
                Request(
                    method=self.command,
                    path=parts.path,
                    headers=dict(self.headers.items()),
                    body=body,
                    query=dict(parse_qsl(parts.query)),
                ),
            )
            payload = response.text().encode()
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # handlers.http logs every request as JSON already

    return Handler


def serve(host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run until interrupted (Ctrl-C)."""
    server = DevServer(host, port).start()
    print(f"statekit dev: serving the example app on {server.url} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()

"""``statekit dev``: any App on a laptop, all on the embedded default.

``statekit dev --app pkg.module:APP`` (else ``$STATEKIT_APP``, else the
example's ``handlers.app:APP``) serves on 127.0.0.1:

- the App's HTTP functions, through the same dispatch as the clouds' adapters
  (statekit.runtime): with one ``Http`` function it gets every path; with
  several, ``/<name>/...`` goes to function ``<name>`` (the path it sees drops
  the prefix) and any other path to the first;
- a worker per ``QueueConsumer`` on the stack's queue, as the clouds' queue
  triggers drive it: a failed message comes back after its visibility timeout
  and reaches the dead-letter queue after ``max_attempts``;
- its workflows on the local executor, in the process that starts them;
- schedules by hand: ``POST /_statekit/fire/<name>`` on the server, or
  ``statekit dev --fire <name>`` once (cron does not run them here).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from statekit.app import App, AppError, Request, load_app, resolve_app
from statekit.app.functions import Function, Http, Schedule
from statekit.runtime.dispatch import call_http, consume_one, fire

WORKER_VISIBILITY_SECONDS = 2
WORKER_WAIT_SECONDS = 0.5
CONTROL_PREFIX = "/_statekit/"


def choose_app(app: App | str | None = None) -> App:
    """``--app`` wins over ``$STATEKIT_APP``, which wins over the example.

    The current folder is importable, as with ``python -m``: the ``statekit``
    console script is run from the project whose App it serves."""
    if isinstance(app, App):
        return app.validate().bind_activities()
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return load_app(app or resolve_app())


def fire_schedule(app: App, name: str) -> None:
    """Run schedule ``name`` of ``app`` once; ``AppError`` when it is not one of its schedules."""
    function = app.function(name)
    if not isinstance(function, Schedule):
        schedules = ", ".join(s.name for s in app.schedules) or "none"
        raise AppError(
            f"app {app.name!r}: {name!r} is a {function.kind} function, not a schedule "
            f"(schedules: {schedules})"
        )
    fire(app, function)


class DevServer:
    """The App's HTTP functions and queue workers, in background threads of this process."""

    def __init__(
        self,
        app: App | str | None = None,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        worker: bool = True,
    ) -> None:
        import statekit

        self.app = choose_app(app)
        self.queue = statekit.open_queue() if self.app.queue_consumers else None
        self._stop = threading.Event()
        self.httpd = ThreadingHTTPServer((host, port), _handler_class(self))
        self.httpd.daemon_threads = True
        self._threads = [
            threading.Thread(target=self.httpd.serve_forever, name="statekit-http", daemon=True)
        ]
        if worker:
            for consumer in self.app.queue_consumers:
                self._threads.append(
                    threading.Thread(
                        target=self._work,
                        args=(consumer,),
                        name=f"statekit-worker-{consumer.name}",
                        daemon=True,
                    )
                )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DevServer:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def fire(self, name: str) -> None:
        fire_schedule(self.app, name)

    def http_function(self, path: str) -> tuple[Http | None, str]:
        """The Http function serving ``path``, and the path it sees."""
        functions = self.app.http
        if not functions:
            return None, path
        if len(functions) > 1:
            head, _, rest = path.lstrip("/").partition("/")
            for function in functions:
                if function.name == head:
                    return function, "/" + rest
        return functions[0], path

    def _work(self, consumer: Function) -> None:
        queue = self.queue
        assert queue is not None
        batch = getattr(consumer, "batch_size", 10)
        while not self._stop.is_set():
            messages = queue.receive(
                max_messages=batch, wait=WORKER_WAIT_SECONDS, visibility=WORKER_VISIBILITY_SECONDS
            )
            for message in messages:
                try:
                    consume_one(self.app, consumer, message)
                except Exception:
                    # Left alone: it comes back after the visibility timeout, and after
                    # max_attempts the queue moves it to its dead-letter queue.
                    continue
                queue.ack(message)


def _handler_class(server: DevServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            if parts.path.startswith(CONTROL_PREFIX):
                status, payload = self._control(parts.path[len(CONTROL_PREFIX) :])
                self._send(
                    status, json.dumps(payload).encode(), {"content-type": "application/json"}
                )
                return
            function, path = server.http_function(parts.path)
            if function is None:
                payload = {
                    "error": "not_found",
                    "message": f"app {server.app.name!r} has no HTTP function",
                }
                self._send(404, json.dumps(payload).encode(), {"content-type": "application/json"})
                return
            request = Request(
                method=self.command,
                path=path,
                query=dict(parse_qsl(parts.query)),
                headers=dict(self.headers.items()),
                body=body,
            )
            response, data, headers = call_http(server.app, function, request)
            self._send(response.status, data, headers)

        def _control(self, what: str) -> tuple[int, Any]:
            action, _, name = what.partition("/")
            if action == "app" and self.command == "GET":
                return 200, {
                    "app": server.app.name,
                    "functions": [{"name": f.name, "kind": f.kind} for f in server.app.functions],
                    "workflows": [w.name for w in server.app.workflows],
                }
            if action == "fire" and self.command == "POST":
                try:
                    server.fire(name)
                except AppError as exc:
                    return 404, {"error": "not_found", "message": str(exc)}
                except Exception as exc:  # the job's own failure: logged by the dispatch
                    return 500, {
                        "error": "failed",
                        "message": f"{name}: {type(exc).__name__}: {exc}",
                    }
                return 200, {"fired": name}
            return 404, {
                "error": "not_found",
                "message": "dev routes: GET /_statekit/app, POST /_statekit/fire/<schedule>",
            }

        def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the dispatch logs every request as JSON already

    return Handler


def serve(host: str = "127.0.0.1", port: int = 8080, app: str | None = None) -> None:
    """Run until interrupted (Ctrl-C)."""
    server = DevServer(app, host, port).start()
    print(
        f"statekit dev: serving app {server.app.name!r} on {server.url} (Ctrl-C stops)", flush=True
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()

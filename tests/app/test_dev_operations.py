"""``statekit dev`` prints each request's state operations, and exports OTLP when asked.

The dev server runs as a user runs it (``python -m statekit.cli dev``) over the booking
App (tests/apps/booking) on sqlite files; the test reads what it prints after each HTTP
request, and, with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, what a real OTLP/HTTP receiver on
127.0.0.1 decodes (tests/observability/otlp_receiver.py).
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")

from tests.app.test_dev_booking import APPS, ROOT, SPEC, eventually
from tests.observability.otlp_receiver import otlp_receiver

LINE = re.compile(r"^  (?P<op>\w+) (?P<subject>\S+)  (?P<ms>\d+\.\d) ms (?P<outcome>\w+)")
SECRET = "ann-private-name"


@dataclass
class Dev:
    url: str
    process: subprocess.Popen[str]
    lines: queue.Queue[str]

    def post(self, path: str, body: Any, correlation_id: str) -> int:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"X-Correlation-Id": correlation_id, "content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers = int(response.status), response.headers
        except urllib.error.HTTPError as error:
            status, headers = error.code, error.headers
        assert headers["x-correlation-id"] == correlation_id
        return status

    def printed(self, quiet_for: float = 1.0) -> list[str]:
        """What the server printed until it has been quiet for ``quiet_for`` seconds."""
        found = []
        while True:
            try:
                found.append(self.lines.get(timeout=quiet_for))
            except queue.Empty:
                return found


@contextmanager
def dev_server(tmp: Path, *options: str, env: dict[str, str] | None = None) -> Iterator[Dev]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "STATEKIT_", "OTEL_"))
    }
    environment.update(
        {
            "PYTHONPATH": os.pathsep.join([str(APPS), str(ROOT)]),
            "STATEKIT_STORE_URL": f"sqlite://{tmp / 'store.db'}",
            "STATEKIT_QUEUE_URL": f"sqlite://{tmp / 'queue.db'}",
            "STATEKIT_WORKFLOW_URL": "local://",
            **(env or {}),
        }
    )
    log = (tmp / "dev.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "statekit.cli", "dev", "--app", SPEC, "--port", "0", *options],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "serving app 'booking' on http://127.0.0.1:" in banner, (
            banner,
            (tmp / "dev.log").read_text(),
        )
        stdout = process.stdout

        def read() -> None:
            for line in stdout:
                lines.put(line.rstrip("\n"))

        threading.Thread(target=read, daemon=True).start()
        yield Dev(banner.split(" on ", 1)[1].split(" ", 1)[0], process, lines)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_each_request_s_state_operations_are_printed_with_their_durations(
    tmp_path: Path,
) -> None:
    event = f"e{uuid.uuid4().hex[:6]}"
    with dev_server(tmp_path) as dev:
        body = {"seat": "A1", "customer": SECRET}
        assert dev.post(f"/events/{event}/holds", body, "corr-ops-1") == 201
        first = dev.printed()
        assert dev.post(f"/events/{event}/holds", body, "corr-ops-2") == 409
        second = dev.printed()

    assert first[0] == f"POST /events/{event}/holds -> 201  [corr-ops-1]", first
    operations = [LINE.match(line) for line in first[1:]]
    assert all(operations), first
    # The developer's own machine: the keys are shown (a hold reads the seat, writes it
    # only if it is absent, then records the event).
    assert [(m["op"], m["subject"], m["outcome"]) for m in operations if m] == [
        ("get", f"event-{event}/seat-A1", "ok"),
        ("put", f"event-{event}/seat-A1", "ok"),
        ("put", f"events/{event}", "ok"),
    ]
    assert all(float(m["ms"]) < 5_000 for m in operations if m)
    assert second[0] == f"POST /events/{event}/holds -> 409  [corr-ops-2]", second
    assert [LINE.match(line)["op"] for line in second[1:]] == ["get"]  # type: ignore[index]
    assert not any(SECRET in line for line in first + second)  # never a value


def test_quiet_prints_no_operations(tmp_path: Path) -> None:
    event = f"q{uuid.uuid4().hex[:6]}"
    with dev_server(tmp_path, "--quiet") as dev:
        assert dev.post(f"/events/{event}/holds", {"seat": "B1", "customer": "x"}, "q-1") == 201
        assert dev.printed() == []


def test_with_the_otlp_variable_dev_exports_the_same_spans(tmp_path: Path) -> None:
    event = f"o{uuid.uuid4().hex[:6]}"
    with otlp_receiver() as (endpoint, received):
        exporting = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_METRIC_EXPORT_INTERVAL": "500",
        }
        with dev_server(tmp_path, env=exporting) as dev:
            assert dev.post(f"/events/{event}/holds", {"seat": "C1", "customer": SECRET}, "otlp-1")
            printed = dev.printed()

            def exported() -> list[dict[str, object]]:
                with received.lock:
                    return [
                        attributes
                        for _, attributes in received.spans
                        if attributes.get("statekit.correlation_id") == "otlp-1"
                    ]

            spans = eventually(lambda: len(exported()) >= 3 and exported(), "the spans over OTLP")
            eventually(
                lambda: "statekit.operation.duration" in received.metrics, "the duration metric"
            )
    assert [s["db.operation.name"] for s in spans] == ["get", "put", "put"]
    # The spans leave the machine: keys follow $STATEKIT_TRACE_KEYS (off), the lines
    # name partitions instead, and no value goes anywhere.
    assert not any("statekit.key" in s for s in spans)
    assert [LINE.match(line)["subject"] for line in printed[1:]] == [  # type: ignore[index]
        f"event-{event}",
        f"event-{event}",
        "events",
    ]
    assert not any(SECRET in str(v) for s in spans for v in s.values())

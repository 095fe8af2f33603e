"""A second App (tests/apps/booking, declared only through statekit.app) on ``statekit dev --app``.

The dev server runs as a user runs it (``python -m statekit.cli dev --app
booking.app:APP``) over sqlite files in a temporary folder; the test drives its
HTTP API, watches its e-mail consumer work the queue (and dead-letter a mail it
can never send), runs its group-booking workflow, and fires its nightly job
through the dev server's route and through ``statekit dev --fire``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from statekit.queue import open_queue
from statekit.store import open_store

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "tests" / "apps"
SPEC = "booking.app:APP"


@dataclass
class Dev:
    url: str
    env: dict[str, str]
    log: Path

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def statekit(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "statekit.cli", *args],
            env=env or self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def eventually(check: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    state = tmp_path_factory.mktemp("booking-dev")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "STATEKIT_"))}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(APPS), str(ROOT)]),
            "STATEKIT_STORE_URL": f"sqlite://{state / 'store.db'}",
            "STATEKIT_QUEUE_URL": f"sqlite://{state / 'queue.db'}?max_attempts=2",
            "STATEKIT_WORKFLOW_URL": "local://",
        }
    )
    log = state / "dev.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "statekit.cli", "dev", "--app", SPEC, "--port", "0"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "serving app 'booking' on http://127.0.0.1:" in banner, (banner, log.read_text())
        url = banner.split(" on ", 1)[1].split(" ", 1)[0]
        yield Dev(url, env, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_dev_server_serves_the_declared_app(dev: Dev) -> None:
    status, body = dev.call("GET", "/_statekit/app")
    assert status == 200
    assert body == {
        "app": "booking",
        "functions": [
            {"name": "api", "kind": "http"},
            {"name": "emails", "kind": "queue"},
            {"name": "nightly", "kind": "schedule"},
        ],
        "workflows": ["group_booking"],
    }


def test_holds_payment_once_and_the_email_consumer(dev: Dev) -> None:
    event = f"e{uuid.uuid4().hex[:8]}"
    status, held = dev.call("POST", f"/events/{event}/holds", {"seat": "A1", "customer": "ann"})
    assert status == 201 and held["status"] == "held", held
    status, taken = dev.call("POST", f"/events/{event}/holds", {"seat": "A1", "customer": "bob"})
    assert status == 409 and taken["error"] == "taken", taken
    assert dev.call("POST", f"/events/{event}/holds", {"seat": "A 1", "customer": "bob"})[0] == 400

    payment = {
        "event": event,
        "seat": "A1",
        "hold_id": held["hold_id"],
        "email": "ann@example.com",
        "amount": 40,
    }
    key = {"Idempotency-Key": f"k{uuid.uuid4().hex[:8]}", "X-Correlation-Id": "corr-booking-1"}
    with ThreadPoolExecutor(2) as pool:  # a double submit pays once
        first, second = list(
            pool.map(lambda _: dev.call("POST", "/payments", payment, key), range(2))
        )
    assert first[0] == second[0] == 201, (first, second)
    assert first[1] == second[1]
    booking_id = first[1]["booking_id"]
    reused = dev.call("POST", "/payments", {**payment, "amount": 41}, key)
    assert reused[0] == 422, reused
    assert dev.call("POST", "/payments", payment)[0] == 400  # no Idempotency-Key

    booked = eventually(
        lambda: (b := dev.call("GET", f"/bookings/{booking_id}")[1])["emailed"] and b,
        "the e-mail consumer to send the confirmation",
    )
    assert booked["seat"] == "A1" and booked["email"] == "ann@example.com"
    # The consumer ran under the payment's correlation id.
    lines = [json.loads(x) for x in dev.log.read_text().splitlines() if x.startswith("{")]
    assert any(
        line.get("msg") == "http" and line["correlation_id"] == "corr-booking-1" for line in lines
    )


def test_a_mail_that_can_never_be_sent_is_dead_lettered(dev: Dev) -> None:
    run = uuid.uuid4().hex[:8]
    with open_queue(dev.env["STATEKIT_QUEUE_URL"]) as queue:
        queue.send({"type": "booking_confirmed", "run": run})  # no "to"

        def dead() -> list[Any]:
            bodies = [m.body for m in queue.dead_letters(10, visibility=1)]
            return [b for b in bodies if isinstance(b, dict) and b.get("run") == run]

        assert eventually(dead, "the unsendable mail in the dead-letter queue") == [
            {"type": "booking_confirmed", "run": run}
        ]


def test_the_group_booking_workflow(dev: Dev) -> None:
    event = f"g{uuid.uuid4().hex[:8]}"
    status, started = dev.call(
        "POST", "/groups", {"event": event, "seats": ["B1", "B2"], "organizer": "org"}
    )
    assert status == 201, started
    status, run = dev.call("GET", f"/groups/{started['group_id']}")
    assert run["status"] == "succeeded", run
    assert run["output"]["confirmed"] == {"booked": ["B1", "B2"]}
    assert dev.call("POST", f"/events/{event}/holds", {"seat": "B2", "customer": "x"})[0] == 409

    # A declined charge undoes the holds: the seat is free again.
    status, started = dev.call(
        "POST", "/groups", {"event": event, "seats": ["C1"], "organizer": "declined"}
    )
    status, run = dev.call("GET", f"/groups/{started['group_id']}")
    assert run["status"] == "compensated" and run["compensated"] == ["release_group_seats"], run
    assert dev.call("POST", f"/events/{event}/holds", {"seat": "C1", "customer": "x"})[0] == 201


def expired_hold(dev: Dev) -> str:
    """A hold whose time ran out, written as the service writes one."""
    event = f"x{uuid.uuid4().hex[:8]}"
    with open_store(dev.env["STATEKIT_STORE_URL"]) as store:
        store.put(
            f"event-{event}/seat-Z9",
            {
                "status": "held",
                "hold_id": "hold-old",
                "customer": "c",
                "expires_at": time.time() - 5,
            },
        )
        store.put(f"events/{event}", {"event": event})
    return f"event-{event}/seat-Z9"


def is_gone(dev: Dev, key: str) -> bool:
    with open_store(dev.env["STATEKIT_STORE_URL"]) as store:
        return store.get(key) is None


def test_the_nightly_job_fired_through_the_dev_server(dev: Dev) -> None:
    key = expired_hold(dev)
    assert not is_gone(dev, key)
    assert dev.call("POST", "/_statekit/fire/nightly") == (200, {"fired": "nightly"})
    assert is_gone(dev, key)
    status, body = dev.call("POST", "/_statekit/fire/api")
    assert (
        status == 404
        and "'api' is a http function, not a schedule (schedules: nightly)" in body["message"]
    )


def test_the_nightly_job_fired_by_statekit_dev_fire(dev: Dev) -> None:
    key = expired_hold(dev)
    done = dev.statekit("dev", "--app", SPEC, "--fire", "nightly")
    assert done.returncode == 0, done.stderr
    assert "schedule 'nightly' ran" in done.stdout
    assert is_gone(dev, key)
    # STATEKIT_APP names the App when --app does not.
    key = expired_hold(dev)
    done = dev.statekit("dev", "--fire", "nightly", env={**dev.env, "STATEKIT_APP": SPEC})
    assert done.returncode == 0, done.stderr
    assert is_gone(dev, key)


def test_statekit_dev_refuses_a_bad_app_or_schedule_clearly(dev: Dev) -> None:
    wrong = dev.statekit("dev", "--app", "nowhere.app:APP", "--fire", "nightly")
    assert wrong.returncode == 2
    assert "error: app 'nowhere.app:APP': no module 'nowhere.app'" in wrong.stderr
    missing = dev.statekit("dev", "--app", SPEC, "--fire", "weekly")
    assert missing.returncode == 2
    assert "no function named 'weekly' (declared: api, emails, nightly)" in missing.stderr

"""The saga's Cloud Workflows YAML in workflows-emulator, calling the example App's
activity function (statekit.runtime.gcp, ``STATEKIT_FUNCTION=activities``) served by
functions-framework on 127.0.0.1 from the package root's ``main.py``.

Deviation handled here: the emulator cannot sign requests with OIDC (it raises
NotImplementedError), so the YAML is rendered with ``auth=None`` for it; the
deployed YAML keeps ``auth: {type: OIDC}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from handlers.saga import ORDER_SAGA
from statekit.workflows import Step
from statekit.workflows.engines.cloud_workflows.client import run_from_execution
from statekit.workflows.engines.cloud_workflows.render import render_cloud_workflows_yaml
from tests.standins.base import free_port, tcp_open
from tests.workflows.outcome import Outcome
from tests.workflows.saga_script import Scenario

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_PYTHON = ROOT / ".tools" / "workflows-emulator-venv" / "bin" / "python"
RUNNER = Path(__file__).with_name("cloud_workflows_runner.py")


def missing_reason() -> str | None:
    if not EMULATOR_PYTHON.exists():
        return f"workflows-emulator is not installed ({EMULATOR_PYTHON}): run scripts/install_workflows_emulator.sh"
    if not Path(sys.executable).with_name("functions-framework").exists():
        return "functions-framework is not installed in the test environment"
    return None


def compensation_activity(step_name: str) -> str:
    step = ORDER_SAGA.step(step_name)
    assert isinstance(step, Step) and step.compensate is not None
    return step.compensate.activity


class ActivityFunction:
    """functions-framework serving the App's activity function, as a deployment does."""

    def __init__(self, workdir: Path) -> None:
        from statekit.runtime import GCP_ENTRY_POINT, GCP_MAIN_PY

        self.port = free_port()
        main = workdir / "activity-function" / "main.py"
        main.parent.mkdir(exist_ok=True)
        main.write_text(GCP_MAIN_PY)
        self.log_path = workdir / "activity-function.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("functions-framework")),
                "--source",
                str(main),
                "--target",
                GCP_ENTRY_POINT,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "STATEKIT_APP": "handlers.app:APP",
                "STATEKIT_FUNCTION": "activities",
            },
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not tcp_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"functions-framework did not start: {self.log_path.read_text()}"
                )
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def calls(self) -> list[dict[str, Any]]:
        """The runtime's log line of each activity call, in order."""
        calls = []
        for line in self.log_path.read_text().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("msg") == "activity":
                    calls.append(record)
        return calls

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


class CloudWorkflowsEngine:
    def __init__(self, function: ActivityFunction, workdir: Path) -> None:
        self.function = function
        self.workdir = workdir
        self.source = workdir / "place_order.yaml"
        # One function URL for every activity: the envelope names the activity.
        yaml_text = render_cloud_workflows_yaml(
            ORDER_SAGA, lambda _activity: function.url, auth=None
        )
        self.source.write_text(yaml_text)

    def run(self, scenario: Scenario) -> Outcome:
        input_path = self.workdir / f"{scenario.name}.json"
        input_path.write_text(json.dumps(scenario.order))
        seen = len(self.function.calls())
        began = time.monotonic()
        finished = subprocess.run(
            [str(EMULATOR_PYTHON), str(RUNNER), str(self.source), str(input_path)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.workdir,
            check=False,
        )
        seconds = time.monotonic() - began
        marker = [
            line for line in finished.stdout.splitlines() if line.startswith("STATEKIT-EXECUTION ")
        ]
        if not marker:
            raise AssertionError(
                f"the emulator printed no execution:\n{finished.stdout}\n{finished.stderr}"
            )
        execution = json.loads(marker[-1].split(" ", 1)[1])
        run = run_from_execution(
            scenario.order["order_id"],
            ORDER_SAGA.name,
            execution["state"],
            execution["result"],
            execution["error_payload"],
        )
        undo_steps = [
            step[: -len("__undo")] for step in execution["steps"] if step.endswith("__undo")
        ]
        compensations = tuple(compensation_activity(name) for name in undo_steps)
        calls = self.function.calls()[seen:]
        return Outcome(
            status=run.status,
            output=run.output,
            failed_step=(run.error or {}).get("step"),
            error=run.error,
            compensations=compensations,
            calls=[call["activity"] for call in calls],
            seconds=seconds,
        )

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
from tests.conformance.workflows.outcome import Outcome
from tests.conformance.workflows.saga_script import Scenario
from tests.standins.base import free_port, tcp_open

ROOT = Path(__file__).resolve().parents[3]
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

    def __init__(self, workdir: Path, source: Path | None = None) -> None:
        """The App's activity function (its generated main.py), or ``source``'s
        ``statekit_activity`` (the long-running conformance cases' own activities)."""
        from statekit.runtime import GCP_ENTRY_POINT, GCP_MAIN_PY

        self.port = free_port()
        main = workdir / "activity-function" / "main.py"
        main.parent.mkdir(exist_ok=True)
        main.write_text(GCP_MAIN_PY)
        target = GCP_ENTRY_POINT if source is None else "statekit_activity"
        self.log_path = workdir / "activity-function.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("functions-framework")),
                "--source",
                str(source or main),
                "--target",
                target,
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


class CloudWorkflowsLongRunning:
    """The long-running cases in workflows-emulator, one execution per case.

    Gaps of the stand-in (strict xfails in the suite): it has no ``events``
    library (``events.create_callback_endpoint`` / ``await_callback``), so no
    run can wait for an event, and no Executions API, so there is no execution
    to cancel and no id to conflict on: it runs one execution from the command line.
    """

    name = "cloud_workflows"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.function = ActivityFunction(
            workdir, ROOT / "tests" / "conformance" / "workflows" / "conformance_activity.py"
        )
        self.runs: dict[str, Any] = {}

    def start(
        self, workflow: Any, payload: Any, run_id: str, on_conflict: str = "use_existing"
    ) -> Any:
        if run_id in self.runs:
            raise AssertionError("workflows-emulator has no Executions API: no conflict on an id")
        source = self.workdir / f"{workflow.name}.yaml"
        source.write_text(
            render_cloud_workflows_yaml(workflow, lambda _activity: self.function.url, auth=None)
        )
        input_path = self.workdir / f"{run_id}.json"
        input_path.write_text(json.dumps(payload))
        try:
            finished = subprocess.run(
                [str(EMULATOR_PYTHON), str(RUNNER), str(source), str(input_path)],
                capture_output=True,
                text=True,
                timeout=40,  # the emulator hangs on some errors (see the suite's xfails)
                cwd=self.workdir,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"workflows-emulator hung on {run_id}: {exc.stderr!r}") from None
        lines = finished.stdout.splitlines()
        marker = [line for line in lines if line.startswith("STATEKIT-EXECUTION ")]
        if not marker:
            raise AssertionError(
                f"the emulator printed no execution:\n{finished.stdout}\n{finished.stderr}"
            )
        execution = json.loads(marker[-1].split(" ", 1)[1])
        self.runs[run_id] = run_from_execution(
            run_id,
            workflow.name,
            execution["state"],
            execution["result"],
            execution["error_payload"],
        )
        return self.runs[run_id]

    @property
    def client(self) -> Any:
        return self

    def status(self, run_id: str) -> Any:
        return self.runs[run_id]

    def send_event(self, run_id: str, event: str, payload: Any) -> None:
        raise AssertionError("workflows-emulator has no events library")

    def cancel(self, run_id: str) -> Any:
        raise AssertionError("workflows-emulator has no Executions API to cancel an execution")

    def tick(self, run_id: str) -> None:
        pass

    def waiting_for_event(self, run_id: str) -> bool:
        return False

    def let_time_pass(self, run_id: str) -> None:
        pass

    def compensations(self, run: Any) -> tuple[str, ...]:
        return tuple(run.compensated)

    def stop(self) -> None:
        self.function.stop()

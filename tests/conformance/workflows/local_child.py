"""A process that starts one run and is killed inside its second step.

``python -m tests.conformance.workflows.local_child WORKFLOW_URL RUN_ID MARKER_DIR``: starts
``THREE_STEPS`` for RUN_ID on the background driver and sleeps; ``second``
writes ``MARKER_DIR/second`` and hangs the first time it runs, so the parent
can SIGKILL this process mid-step. Every activity appends its name to
``MARKER_DIR/calls`` so the parent counts executions across both processes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from statekit.workflows import Step, Workflow, open_workflows


def _activity(name: str) -> Any:
    def run(payload: Any) -> Any:
        folder = Path(payload["dir"])
        with (folder / "calls").open("a") as calls:
            calls.write(name + "\n")
        if name == "second" and not (folder / "second").exists():
            (folder / "second").write_text("in second")
            time.sleep(600)  # killed here
        return f"{name}-done"

    return run


# No retries: an interrupted step must run again without counting as a failed attempt.
THREE_STEPS = Workflow(
    "three_steps",
    [
        Step("first", activity="first", output="one", next="second"),
        Step("second", activity="second", output="two", next="third"),
        Step("third", activity="third", output="three"),
    ],
    activities={name: _activity(name) for name in ("first", "second", "third")},
)


def main() -> None:
    url, run_id, folder = sys.argv[1], sys.argv[2], sys.argv[3]
    client = open_workflows(url)
    client.start(THREE_STEPS, {"dir": folder}, run_id)
    time.sleep(600)


if __name__ == "__main__":
    main()

"""Runs one workflow in workflows-emulator and prints the execution as JSON.

Executed by the emulator's own Python (.tools/workflows-emulator-venv), not by
the test process: ``python cloud_workflows_runner.py WORKFLOW.yaml INPUT.json``.
Prints ``{"state", "result", "error_payload", "steps"}`` like the Executions
API's fields, plus the steps the emulator ran, in order (from its log).
"""

# mypy: ignore-errors
# (runs in the emulator's environment, whose packages the project's mypy cannot see)
import json
import logging
import sys

from workflows_emulator.main import execute_workflow, load_workflow
from workflows_emulator.utils import WorkflowError


class StepLog(logging.Handler):
    def __init__(self):
        super().__init__()
        self.steps = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("Step running: `"):
            self.steps.append(message.split("`")[1])


def main():
    source, input_path = sys.argv[1], sys.argv[2]
    steps = StepLog()
    logging.getLogger().addHandler(steps)
    logging.getLogger().setLevel(logging.INFO)
    with open(input_path) as handle:
        payload = json.load(handle)
    config = load_workflow(source)
    outcome = {"state": "SUCCEEDED", "result": None, "error_payload": None}
    try:
        outcome["result"] = json.dumps(execute_workflow(config, {"input": payload}))
    except WorkflowError as exc:
        outcome["state"] = "FAILED"
        raised = exc.payload
        outcome["error_payload"] = json.dumps(
            raised.to_dict() if hasattr(raised, "to_dict") else raised
        )
    outcome["steps"] = steps.steps
    print("STATEKIT-EXECUTION " + json.dumps(outcome))


main()

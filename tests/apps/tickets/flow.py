"""The one workflow of the tickets App."""

from __future__ import annotations

from statekit.workflows import Step, Workflow

ISSUE_TICKET = Workflow(
    "issue_ticket",
    activities=["issue"],
    steps=[Step("issue", activity="issue", input={"order": "$.order"}, output="ticket")],
)

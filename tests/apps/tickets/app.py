"""The tickets App: a public API, a mailer with an extra permission, a weekday job, a workflow."""

from __future__ import annotations

import tickets.handlers  # noqa: F401  (registers the activities)
from statekit.app import App, Http, QueueConsumer, Schedule
from tickets.flow import ISSUE_TICKET

APP = App(
    "tickets",
    code=["tickets"],
    functions=[
        Http("web", "tickets.handlers:web", public=True, memory_mb=1024, timeout_s=10),
        QueueConsumer(
            "mailer", "tickets.handlers:mail", batch_size=5, permissions=("send_email",)
        ),
        Schedule("sweep", "tickets.handlers:sweep", cron="30 2 * * 1-5"),
    ],
    workflows=[ISSUE_TICKET],
)

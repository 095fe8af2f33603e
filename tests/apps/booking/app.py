"""The booking service, declared once: the kit deploys, serves and compares it."""

from booking.workflow import GROUP_BOOKING
from statekit.app import App, Http, QueueConsumer, Schedule

APP = App(
    "booking",
    code=["booking"],
    functions=[
        Http("api", "booking.api:handle"),
        QueueConsumer("emails", "booking.emails:handle", permissions=("send_email",)),
        Schedule("nightly", "booking.jobs:nightly", cron="0 3 * * *"),
    ],
    workflows=[GROUP_BOOKING],
)

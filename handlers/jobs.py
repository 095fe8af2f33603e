"""Scheduled jobs of the example app (``Schedule`` functions: ``() -> None``, UTC cron)."""

from __future__ import annotations

from handlers.app import get_app
from handlers.logs import log


def nightly() -> None:
    """Purge carts whose TTL has passed (see ``Shop.cleanup_expired_carts``)."""
    summary = get_app().cleanup_expired_carts()
    log("jobs.nightly", **summary)

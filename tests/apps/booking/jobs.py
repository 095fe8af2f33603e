"""The nightly job: purge holds that ran out (a hold keeps its expiry in its value)."""

from __future__ import annotations

import contextlib
import time

from booking.seats import is_live_hold
from booking.state import state
from statekit.errors import Conflict


def nightly() -> None:
    store = state().store
    now = time.time()
    for event in list(store.iter_prefix("events/")):
        partition = f"event-{event.value['event']}/seat-"
        for seat in list(store.iter_prefix(partition)):
            if seat.value.get("status") == "held" and not is_live_hold(seat.value, now):
                with contextlib.suppress(Conflict):  # held again meanwhile: alive
                    store.delete(seat.key, if_match=seat.etag)

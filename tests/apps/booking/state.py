"""The service's state, opened once per process from the STATEKIT_*_URL variables.

Keys: ``event-<id>/seat-<seat>`` (a hold or a booking of one seat; an event is a
partition, so its seats list together), ``events/<id>`` (the events with seats,
which the nightly job walks), ``booking-<id>/booking``, ``mail-<booking>/sent``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import statekit


@dataclass
class State:
    store: statekit.Store
    queue: Any  # statekit.queue.Queue
    workflows: Any  # statekit.workflows.WorkflowClient


@functools.cache
def state() -> State:
    return State(statekit.open_store(), statekit.open_queue(), statekit.open_workflows())

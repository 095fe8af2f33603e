"""Where the local executor keeps runs in its store, and who holds a run's lease.

- ``wfrun/<id>``: a run's record (one partition, so ``list`` is a query);
  a Parallel branch or Map item is a child run ``<id>:<step>.<n>``.
- ``wfactive/<id>``: ``{"due": epoch seconds or None}`` for every run not yet
  ended: what the driver scans. ``None`` waits for a wake-up (an event, a child).
- ``wfevent/<id>.<event>``: an event sent to a run, kept until a
  ``WaitForEvent`` takes it (so an event may arrive before the run waits).

A lease names its owner's host, process id and process start time, so a run
whose driver process died is taken over at once, not when the lease lapses.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any

RUNS = "wfrun/"
ACTIVE = "wfactive/"
EVENTS = "wfevent/"


def run_key(run_id: str) -> str:
    return RUNS + run_id


def active_key(run_id: str) -> str:
    return ACTIVE + run_id


def event_key(run_id: str, event: str) -> str:
    return f"{EVENTS}{run_id}.{event}"


def _process_started(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return fields[19]
    except (OSError, IndexError):
        return None


def new_owner() -> dict[str, Any]:
    pid = os.getpid()
    return {
        "host": socket.gethostname(),
        "pid": pid,
        "started": _process_started(pid),
        "token": uuid.uuid4().hex[:12],
    }


def owner_alive(owner: dict[str, Any]) -> bool:
    """False only when the owner is surely gone: a process of this host that no longer runs."""
    if owner.get("host") != socket.gethostname():
        return True  # another machine: only its lease's expiry tells
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    started = owner.get("started")
    return started is None or _process_started(pid) == started

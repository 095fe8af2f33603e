"""The activity side of ``WaitForEvent`` on the clouds: where a waiting run's
callback (a Step Functions task token, a Cloud Workflows callback URL) is kept.

A waiting run calls its activity function with a reserved activity name (see
``CALLBACK_ACTIVITIES``); ``handle_callback_activity`` keeps the callback in the
store under the run and the event, and ``send_event`` reads it there. An event
sent before the run waits is kept under ``wfpending/`` and delivered by the
activity side as soon as the run starts waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from statekit.store import Store

AWAIT_EVENT_ACTIVITY = "statekit_await_event"  # Step Functions: {"run_id", "event", "token"}
KEEP_CALLBACK_ACTIVITY = "statekit_keep_callback"  # Cloud Workflows: {"run_id", "event", "url"}
CALLBACK_ACTIVITIES = frozenset({AWAIT_EVENT_ACTIVITY, KEEP_CALLBACK_ACTIVITY})


def callback_key(run_id: str, event: str) -> str:
    """Where the callback of run ``run_id`` waiting for ``event`` is kept."""
    return f"wfcallback/{run_id}.{event}"


def pending_key(run_id: str, event: str) -> str:
    """Where an event sent before its run waits for it is kept."""
    return f"wfpending/{run_id}.{event}"


def is_callback_activity(envelope: Any) -> bool:
    return isinstance(envelope, Mapping) and envelope.get("activity") in CALLBACK_ACTIVITIES


def handle_callback_activity(
    envelope: Mapping[str, Any],
    store: Store,
    deliver: Callable[[str, str, Any], None] | None = None,
) -> dict[str, Any]:
    """Keep the callback of a waiting run; deliver an event that came first.

    ``deliver(run_id, event, payload)`` sends a pending event through the engine
    (``send_event``); the runtime's activity adapter passes the engine's client."""
    payload = envelope.get("input") or {}
    run_id, event = str(payload["run_id"]), str(payload["event"])
    callback = {key: payload[key] for key in ("token", "url") if key in payload}
    store.put(callback_key(run_id, event), callback)
    pending = store.get(pending_key(run_id, event))
    if pending is not None and deliver is not None:
        deliver(run_id, event, pending.value["payload"])
    return {}


def keep_pending(store: Store, run_id: str, event: str, payload: Any) -> None:
    store.put(pending_key(run_id, event), {"payload": payload})


def take_pending(store: Store, run_id: str, event: str) -> None:
    store.delete(pending_key(run_id, event))

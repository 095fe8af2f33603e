"""A Durable Functions orchestration history, built event by event as the extension writes it.

Shared by the replay harness of the order saga (engine_durable.py) and the Durable
management-API stand-in (durable_host.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 1, 1, tzinfo=UTC)


class DurableHistory:
    clock: datetime
    history: list[dict[str, Any]]

    def event(self, event_type: int, event_id: int = -1, **fields: Any) -> None:
        stamp = self.clock.isoformat().replace("+00:00", "Z")
        self.history.append(
            {
                "EventType": event_type,
                "EventId": event_id,
                "IsPlayed": False,
                "Timestamp": stamp,
                **fields,
            }
        )

    def episode(self) -> None:
        """An OrchestratorStarted event, 10 ms after the last one."""
        self.clock += timedelta(milliseconds=10)
        self.event(12)

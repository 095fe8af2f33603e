"""The local executor's clocks: the system's, and one that tests move by hand.

Every timer of the local executor (a ``Wait``, a ``WaitForEvent``'s timeout, a
retry's backoff) reads ``now()`` and pauses with ``sleep()``, so with a
``ManualClock`` a 24-hour timeout takes no real time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ManualClock:
    """Epoch seconds that move only when told; ``sleep`` moves them at once."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

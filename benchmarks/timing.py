"""The per-call timing every benchmark script in this folder uses."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_op_us(fn: Callable[[], object], ops: int) -> tuple[float, float]:
    """Wall-clock and this thread's CPU time per call, in microseconds."""
    cpu_started = time.thread_time()
    started = time.perf_counter()
    for _ in range(ops):
        fn()
    wall = (time.perf_counter() - started) / ops * 1e6
    return wall, (time.thread_time() - cpu_started) / ops * 1e6

"""A consumer killed mid-batch loses no message, on every queue backend."""

from __future__ import annotations

import multiprocessing
import os
import signal

from statekit.queue import Queue
from tests.conformance.queue.receiving import QueueFactory, drain_acked
from tests.conformance.queue.worker import consume_then_hang

SENT = 10
TAKEN = 5
ACKED = 2


def test_consumer_killed_by_sigkill_mid_batch_loses_no_message(
    queue_factory: QueueFactory,
) -> None:
    queue: Queue = queue_factory()
    assert queue.url is not None
    url = queue.url
    result = queue.send_many([{"n": n} for n in range(SENT)])
    assert result.ok
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, as a new function is
    parent_end, child_end = context.Pipe()
    worker = context.Process(target=consume_then_hang, args=(url, TAKEN, ACKED, 3, child_end))
    worker.start()
    try:
        assert parent_end.poll(60), "the consumer never reported its batch"
        acked, held = parent_end.recv()
    finally:
        if worker.pid is not None and worker.is_alive():
            os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
    assert worker.exitcode == -signal.SIGKILL
    assert len(acked) == ACKED and len(held) == TAKEN - ACKED
    survivors = drain_acked(queue, SENT - ACKED, timeout=30)
    ids = [m.id for m in survivors]
    assert len(ids) == len(set(ids)) == SENT - ACKED
    assert set(held) <= set(ids)  # the killed consumer's unacked messages came back
    assert not set(acked) & set(ids)
    assert sorted(m.body["n"] for m in survivors) == sorted(
        n for n, message_id in result.ids.items() if message_id not in acked
    )

"""Several processes consuming one SQLite queue at once: each message handled once, none lost."""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection
from pathlib import Path

from statekit.queue import open_queue

CONSUMERS = 4
MESSAGES = 400


def _consume(url: str, report: Connection) -> None:
    queue = open_queue(url)
    seen: list[int] = []
    idle = 0
    while idle < 3:  # three empty one-second waits: the queue is drained
        batch = queue.receive(10, wait=1, visibility=120)
        idle = 0 if batch else idle + 1
        seen += [m.body for m in batch]
        time.sleep(0.002 * len(batch))  # some work, so the others get their share
        assert not queue.ack_many(batch)
    report.send(seen)


def test_concurrent_consumers_each_message_exactly_once(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'shared-queue.db'}?queue=work"
    assert open_queue(url).send_many(list(range(MESSAGES))).ok
    context = multiprocessing.get_context("spawn")  # separate interpreters, as functions are
    pipes = [context.Pipe() for _ in range(CONSUMERS)]
    workers = [context.Process(target=_consume, args=(url, child)) for _, child in pipes]
    for worker in workers:
        worker.start()
    results = [parent.recv() for parent, _ in pipes]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    handled = [n for result in results for n in result]
    assert sorted(handled) == list(range(MESSAGES))  # nothing twice (visibility 120 s), none lost
    assert sum(1 for result in results if result) >= 2  # the work really was shared
    assert open_queue(url).receive(10) == []

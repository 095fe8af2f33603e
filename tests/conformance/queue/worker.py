"""A consumer process for the kill test: takes a batch, acks part of it, then hangs."""

from __future__ import annotations

import time
from multiprocessing.connection import Connection

from statekit.queue import Message, open_queue


def consume_then_hang(url: str, take: int, ack: int, visibility: int, report: Connection) -> None:
    queue = open_queue(url)
    batch: list[Message] = []
    deadline = time.monotonic() + 20
    while len(batch) < take and time.monotonic() < deadline:
        batch += queue.receive(min(10, take - len(batch)), wait=1, visibility=visibility)
    for message in batch[:ack]:
        queue.ack(message)
    report.send(([m.id for m in batch[:ack]], [m.id for m in batch[ack:]]))
    time.sleep(3600)  # mid-batch: the parent kills us here with SIGKILL

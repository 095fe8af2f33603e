"""Several processes writing one SQLite file at once lose nothing."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

import statekit

PROCESSES = 4
PER_PROCESS = 100


def _update_worker(url: str) -> None:
    store = statekit.open_store(url)
    for _ in range(PER_PROCESS):
        store.update("counter/updates", lambda v: (v or 0) + 1, attempts=10_000)


def _increment_worker(url: str) -> None:
    store = statekit.open_store(url)
    for _ in range(PER_PROCESS):
        store.increment("counter/increments")


@pytest.mark.parametrize(
    ("worker", "key"),
    [(_update_worker, "counter/updates"), (_increment_worker, "counter/increments")],
)
def test_processes_on_one_file_end_exact(tmp_path: Path, worker, key: str) -> None:
    url = f"sqlite://{tmp_path / 'shared.db'}"
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as separate functions are
    processes = [context.Process(target=worker, args=(url,)) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert statekit.open_store(url).get(key).value == PROCESSES * PER_PROCESS  # type: ignore[union-attr]

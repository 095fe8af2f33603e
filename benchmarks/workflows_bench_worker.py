"""One phase of benchmarks/workflows_local.py in one process, for one engine.

``python workflows_bench_worker.py ENGINE PHASE DIR N``: ENGINE is ``statekit``
(the local executor over SQLite, run with the project's Python) or ``dbos``
(DBOS Transact over SQLite, run with .tools/dbos-venv's Python). Both run the
same 3-step workflow whose steps append ``<run> <step>`` to ``DIR/calls``.
PHASE: ``latency`` (N runs one after another, start to result), ``throughput``
(N runs started at once, until all ended), ``hang`` (start N runs; step two
hangs: the parent kills this process), ``recover`` (a new process: wait until
the N runs of ``hang`` ended). Prints one JSON line.
"""

# mypy: ignore-errors
# (the dbos side runs in its own environment, whose packages mypy cannot see)
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ENGINE, PHASE, DIR, N = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
HANG = PHASE == "hang"


def record(run: str, step: str) -> None:
    with (DIR / "calls").open("a") as calls:
        calls.write(f"{run} {step}\n")


def step_one(payload):
    record(payload["run"], "one")
    return payload["value"] + 1


def step_two(payload):
    record(payload["run"], "two")
    if HANG:
        time.sleep(3600)
    return payload["value"] * 2


def step_three(payload):
    record(payload["run"], "three")
    return payload["value"] - 3


def statekit_engine():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from statekit.store import open_store
    from statekit.workflows import Step, Workflow
    from statekit.workflows.engines.local.client import LocalWorkflows

    flow = Workflow(
        "three_steps",
        [
            Step(
                "one",
                activity="one",
                input={"run": "$.run", "value": "$.value"},
                output="a",
                next="two",
            ),
            Step(
                "two",
                activity="two",
                input={"run": "$.run", "value": "$.a"},
                output="b",
                next="three",
            ),
            Step("three", activity="three", input={"run": "$.run", "value": "$.b"}, output="c"),
        ],
        activities={"one": step_one, "two": step_two, "three": step_three},
    )
    client = LocalWorkflows(open_store(f"sqlite:///{DIR / 'statekit.db'}"), poll_seconds=0.05)
    client.run_in_background()

    def start(run_id):
        client.start(flow, {"run": run_id, "value": 1}, run_id)

    def result(run_id, wait=120):
        return client.result(run_id, wait=wait)["c"]

    return start, result


def dbos_engine():
    from dbos import DBOS, SetWorkflowID

    DBOS(config={"name": "bench", "system_database_url": f"sqlite:///{DIR / 'dbos.sqlite'}"})

    @DBOS.step()
    def one(run, value):
        return step_one({"run": run, "value": value})

    @DBOS.step()
    def two(run, value):
        return step_two({"run": run, "value": value})

    @DBOS.step()
    def three(run, value):
        return step_three({"run": run, "value": value})

    @DBOS.workflow()
    def three_steps(run, value):
        return three(run, two(run, one(run, value)))

    DBOS.launch()  # recovers the runs a dead process left pending

    handles = {}

    def start(run_id):
        with SetWorkflowID(run_id):
            handles[run_id] = DBOS.start_workflow(three_steps, run_id, 1)

    def result(run_id, wait=120):
        # The handle of a run started here waits on its future; another's polls the database.
        handle = handles.get(run_id) or DBOS.retrieve_workflow(run_id)
        return handle.get_result()

    return start, result


def main():
    start, result = statekit_engine() if ENGINE == "statekit" else dbos_engine()
    ids = [f"{PHASE}-{index}" for index in range(N)]
    if PHASE == "latency":
        seconds = []
        for run_id in ids:
            began = time.perf_counter()
            start(run_id)
            assert result(run_id) == 1
            seconds.append(time.perf_counter() - began)
        print(
            json.dumps(
                {
                    "median_ms": statistics.median(seconds) * 1000,
                    "p90_ms": sorted(seconds)[int(N * 0.9)] * 1000,
                }
            )
        )
    elif PHASE == "throughput":
        began = time.perf_counter()
        for run_id in ids:
            start(run_id)
        for run_id in ids:
            assert result(run_id) == 1
        elapsed = time.perf_counter() - began
        print(json.dumps({"runs_per_s": N / elapsed, "seconds": elapsed}))
    elif PHASE == "hang":
        for run_id in ids:
            start(run_id)
        print(json.dumps({"started": N}), flush=True)
        time.sleep(3600)
    elif PHASE == "recover":
        began = time.perf_counter()
        hung = [f"hang-{index}" for index in range(N)]
        results = [result(run_id) for run_id in hung]
        assert results == [1] * N, results
        print(json.dumps({"recovered_in_s": time.perf_counter() - began}))
    sys.stdout.flush()
    os._exit(0)  # DBOS and the driver keep threads: leave at once


main()

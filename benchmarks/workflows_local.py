"""The local workflow executor against DBOS Transact, both on SQLite, same 3-step workflow.

Per engine, each phase in a fresh process and a fresh database:

* latency: N runs one after another, start to result (median and p90);
* throughput: N runs started at once, runs per second until all ended;
* crash: a process starts K runs whose step two hangs; once every run that can
  be in step two is there, it is SIGKILLed; a new process resumes them. Counted
  from the steps' own log: each run's step one ran exactly once (not redone),
  step three exactly once, each run ended once, and how long the resume took.

DBOS runs in its own virtual environment (scripts/benchmark_tools/dbos.sh) because its
pins clash with the project's.

    .venv/bin/python benchmarks/workflows_local.py [--runs 200] [--crash-runs 20]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("workflows_bench_worker.py")
DBOS_PYTHON = ROOT / ".tools" / "dbos-venv" / "bin" / "python"


def python_for(engine: str) -> str:
    return sys.executable if engine == "statekit" else str(DBOS_PYTHON)


def phase(engine: str, name: str, folder: Path, runs: int) -> dict[str, Any]:
    finished = subprocess.run(
        [python_for(engine), str(WORKER), engine, name, str(folder), str(runs)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"{engine} {name} failed:\n{finished.stdout}\n{finished.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def crash(engine: str, folder: Path, runs: int) -> dict[str, Any]:
    child = subprocess.Popen(
        [python_for(engine), str(WORKER), engine, "hang", str(folder), str(runs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    calls = folder / "calls"
    deadline = time.monotonic() + 60
    last, stable_since = -1, time.monotonic()
    # Kill once the count of runs in step two stops growing (each engine's workers are busy).
    while time.monotonic() < deadline:
        count = calls.read_text().count(" two\n") if calls.exists() else 0
        if count != last:
            last, stable_since = count, time.monotonic()
        elif count > 0 and time.monotonic() - stable_since > 1.0:
            break
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    before = collections.Counter(line.split()[1] for line in calls.read_text().splitlines())
    recovered = phase(engine, "recover", folder, runs)
    steps: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in calls.read_text().splitlines():
        run, step = line.split()
        steps[step][run] += 1
    return {
        "in_step_two_when_killed": before["two"],
        "recovered_in_s": recovered["recovered_in_s"],
        "step_one_once": sum(1 for n in steps["one"].values() if n == 1),
        "step_three_once": sum(1 for n in steps["three"].values() if n == 1),
        "step_two_reruns": sum(steps["two"].values()) - len(steps["two"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--latency-runs", type=int, default=50)
    parser.add_argument("--crash-runs", type=int, default=20)
    args = parser.parse_args()
    if not DBOS_PYTHON.exists():
        sys.exit(f"DBOS is not installed ({DBOS_PYTHON}): run scripts/benchmark_tools/dbos.sh")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    found: dict[str, dict[str, Any]] = {}
    for engine in ("statekit", "dbos"):
        with (
            tempfile.TemporaryDirectory() as a,
            tempfile.TemporaryDirectory() as b,
            tempfile.TemporaryDirectory() as c,
        ):
            found[engine] = {
                **phase(engine, "latency", Path(a), args.latency_runs),
                **phase(engine, "throughput", Path(b), args.runs),
                **crash(engine, Path(c), args.crash_runs),
            }
    ours, peer = found["statekit"], found["dbos"]
    print(
        f"\n3-step workflow on SQLite: {args.latency_runs} runs for latency, {args.runs} for throughput, "
        f"{args.crash_runs} killed in step two"
    )
    print("| measure | statekit local | DBOS 3.4.0 | statekit / DBOS |")
    print("|---|---:|---:|---:|")
    for key, label in (
        ("median_ms", "start to result, median ms"),
        ("p90_ms", "start to result, p90 ms"),
        ("runs_per_s", "throughput, runs/s"),
        ("recovered_in_s", "resume after SIGKILL, s until all ended"),
    ):
        print(f"| {label} | {ours[key]:.1f} | {peer[key]:.1f} | {ours[key] / peer[key]:.2f} |")
    for key, label in (
        ("in_step_two_when_killed", "runs in step two when killed"),
        ("step_one_once", f"runs whose step one ran exactly once (of {args.crash_runs})"),
        ("step_three_once", f"runs whose step three ran exactly once (of {args.crash_runs})"),
        ("step_two_reruns", "step two run again after the restart"),
    ):
        print(f"| {label} | {ours[key]} | {peer[key]} | |")


if __name__ == "__main__":
    main()

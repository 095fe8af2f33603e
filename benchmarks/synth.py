"""Wall time and peak memory of synthesizing the state stacks with ``python main.py``.

    .venv/bin/python benchmarks/synth.py [--runs 3] [--scenario all|aws-dev|...]

Each run is a fresh ``main.py`` process (Python plus the jsii node process it
starts) writing to a temporary ``cdktf.out``. Memory is reported two ways:
the peak of the summed RSS of the whole process tree, sampled every 20 ms from
/proc (what the machine must have free), and the largest single process's
maxrss from ``wait4`` (the kernel's exact figure for the biggest process, which
includes waited-for descendants' maxima but not their sum). One warm-up run
fills the project-local jsii cache (``.jsii-cache/``) if it is empty, so the table
is for a warm cache; the warm-up's own time is printed above the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from statekit.registry import CLOUDS

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
SCENARIOS: dict[str, dict[str, str]] = {
    "all clouds x all envs": {},
    "aws x prod": {"STATEKIT_CLOUDS": "aws", "STATEKIT_ENVS": "prod"},
    "aws x dev": {"STATEKIT_CLOUDS": "aws", "STATEKIT_ENVS": "dev"},
    "azure x prod": {"STATEKIT_CLOUDS": "azure", "STATEKIT_ENVS": "prod"},
    "gcp x prod": {"STATEKIT_CLOUDS": "gcp", "STATEKIT_ENVS": "prod"},
}
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  # user + system of the whole tree (reaped descendants included)
    tree_peak_mb: float
    largest_mb: float
    stacks: int


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found: list[int] = []
        for task in tasks:
            text = (task / "children").read_text().split()
            found.extend(int(child) for child in text)
        return found
    except OSError:
        return []


def _tree_rss(root: int) -> int:
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/statm").read_text().split()
            total += int(fields[1]) * PAGE
        except OSError:
            continue
        pending.extend(_children(pid))
    return total


def run_once(extra_env: dict[str, str]) -> Run:
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as outdir:
        env = {**os.environ, **extra_env, "CDKTF_OUTDIR": outdir}
        for variable in ("STATEKIT_CLOUDS", "STATEKIT_ENVS"):
            if variable not in extra_env:
                env.pop(variable, None)
        start = time.perf_counter()
        process = subprocess.Popen(
            [str(PYTHON), "main.py"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read().decode() if process.stderr else ""
        if process.returncode != 0:
            raise SystemExit(f"main.py failed ({extra_env}):\n{stderr[-2000:]}")
        stacks = len(list((Path(outdir) / "stacks").iterdir()))
        cpu = usage.ru_utime + usage.ru_stime
        return Run(seconds, cpu, peak / 2**20, usage.ru_maxrss / 1024, stacks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        help="repeatable; default: every scenario whose cloud exists",
    )
    args = parser.parse_args()
    present = [c for c in CLOUDS if (ROOT / "modules" / c / "stack.py").exists()]
    if len(present) < len(
        CLOUDS
    ):  # a checkout where a cloud is not built yet: "all" means all present
        SCENARIOS["all clouds x all envs"] = {"STATEKIT_CLOUDS": ",".join(present)}
    names = args.scenario or [
        name
        for name, env in SCENARIOS.items()
        if not env.get("STATEKIT_CLOUDS") or set(env["STATEKIT_CLOUDS"].split(",")) <= set(present)
    ]
    cache_state = "warm" if (ROOT / ".jsii-cache").is_dir() else "cold"
    cold = run_once(SCENARIOS[names[0]])
    print(
        f"warm-up run ({names[0]}, jsii cache {cache_state}): {cold.seconds:.1f} s, "
        f"tree peak {cold.tree_peak_mb:.0f} MB"
    )
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f} at start, {args.runs} warm runs each\n")
    print(
        "| scenario | stacks | wall s, median (min-max) | CPU s | tree peak MB, median (min-max) "
        "| largest process MB |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        runs = [run_once(SCENARIOS[name]) for _ in range(args.runs)]
        seconds = [r.seconds for r in runs]
        peaks = [r.tree_peak_mb for r in runs]
        largest = [r.largest_mb for r in runs]
        print(
            f"| {name} | {runs[0].stacks} "
            f"| {statistics.median(seconds):.1f} ({min(seconds):.1f}-{max(seconds):.1f}) "
            f"| {statistics.median(r.cpu_seconds for r in runs):.1f} "
            f"| {statistics.median(peaks):.0f} ({min(peaks):.0f}-{max(peaks):.0f}) "
            f"| {statistics.median(largest):.0f} |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Latency of each store backend through statekit vs the raw SDK, on the same stand-in.

For every target module in ``benchmarks/store_targets/`` (or those named on the
command line), p50 and p95 of get, put, conditional put, increment and
put_many(100) through statekit and through the raw SDK making the same calls, in
the same run, interleaved one for one (so a change in machine load hits both
sides alike), the ratio of the p50s, and the requests each operation sent.

    .venv/bin/python -m benchmarks.store_backends [dynamodb redis ...] [--iterations 200]

Prints a table and writes ``.statekit/reports/bench-store.json`` (read by
``statekit compare``); a run over some targets keeps the others' last results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(ROOT))

from benchmarks.store_targets import Target, available, make  # noqa: E402

REPORT = ROOT / ".statekit" / "reports" / "bench-store.json"
VALUE = {"user": "u-42", "items": [{"sku": "book", "qty": 1}], "total": 12.5}
OPERATIONS = ("get", "put", "conditional put", "increment", "put_many(100)")
BATCH = {f"m{j:03d}": VALUE for j in range(100)}
MAX_SAMPLES = 20_000


@dataclass
class Row:
    backend: str
    operation: str
    where: str
    p50_ms: float | None = None
    p95_ms: float | None = None
    raw_p50_ms: float | None = None
    raw_p95_ms: float | None = None
    ratio_p50: float | None = None
    round_trips: float | None = None
    raw_round_trips: float | None = None
    ops_per_s: float | None = None
    samples: int = 0
    error: str | None = None  # the operation failed on this target
    skipped: str | None = None  # the target declared it unsupported (a stand-in deviation)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sides(target: Target) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Per operation: (statekit call, raw call), each doing one operation when called."""
    store = target.store
    store.put("sk/get", VALUE)
    target.raw_put("raw/get", VALUE)
    etags = {"sk": store.put("sk/cond", VALUE).etag, "raw": target.raw_put("raw/cond", VALUE)}
    counter = {"n": 0}

    def next_key(side: str) -> str:
        counter["n"] += 1
        return f"{side}/put{counter['n'] % 100}"

    def sk_conditional() -> None:
        etags["sk"] = store.put("sk/cond", VALUE, if_match=etags["sk"]).etag

    def raw_conditional() -> None:
        etags["raw"] = target.raw_conditional_put("raw/cond", VALUE, etags["raw"])

    def sk_put_many() -> None:
        store.put_many({f"sk/{k}": v for k, v in BATCH.items()}).raise_for_failures()

    return {
        "get": (lambda: store.get("sk/get"), lambda: target.raw_get("raw/get")),
        "put": (
            lambda: store.put(next_key("sk"), VALUE),
            lambda: target.raw_put(next_key("raw"), VALUE),
        ),
        "conditional put": (sk_conditional, raw_conditional),
        "increment": (
            lambda: store.increment("sk/counter"),
            lambda: target.raw_increment("raw/counter"),
        ),
        "put_many(100)": (
            sk_put_many,
            lambda: target.raw_put_many({f"raw/{k}": v for k, v in BATCH.items()}),
        ),
    }


def round_trips(target: Target, call: Callable[[], Any], times: int = 5) -> float:
    target.round_trips.reset()
    for _ in range(times):
        call()
    return target.round_trips.read() / times


def measure_one(
    target: Target,
    name: str,
    sides_of_op: tuple[Callable[[], Any], Callable[[], Any]],
    n: int,
    where: str,
    *,
    min_seconds: float = 1.0,
) -> Row:
    ours, theirs = sides_of_op
    warm = max(3, n // 10)
    started = time.perf_counter()
    for _ in range(warm):  # warm up: connections, script cache, code paths
        ours()
        theirs()
    # Fast operations get more samples (at least min_seconds per side), so a p50 of a
    # 70 us call is not at the mercy of a few scheduler hiccups on a loaded machine.
    pair_seconds = (time.perf_counter() - started) / warm
    n = max(n, min(MAX_SAMPLES, int(2 * min_seconds / pair_seconds)))
    calls_ours, calls_raw = round_trips(target, ours), round_trips(target, theirs)
    ours_ms: list[float] = []
    raw_ms: list[float] = []
    clock = time.perf_counter
    for i in range(n):
        # Alternate which side goes first, so neither always follows the other.
        pair = (
            ((ours, ours_ms), (theirs, raw_ms))
            if i % 2 == 0
            else ((theirs, raw_ms), (ours, ours_ms))
        )
        for call, samples in pair:
            started = clock()
            call()
            samples.append((clock() - started) * 1000)
    p50, raw_p50 = percentile(ours_ms, 0.5), percentile(raw_ms, 0.5)
    return Row(
        backend=target.name,
        operation=name,
        where=where,
        p50_ms=round(p50, 3),
        p95_ms=round(percentile(ours_ms, 0.95), 3),
        raw_p50_ms=round(raw_p50, 3),
        raw_p95_ms=round(percentile(raw_ms, 0.95), 3),
        ratio_p50=round(p50 / raw_p50, 3),
        round_trips=calls_ours,
        raw_round_trips=calls_raw,
        ops_per_s=round(1000 / (sum(ours_ms) / len(ours_ms)), 1),
        samples=n,
    )


def measure(target: Target, iterations: int, where: str, *, min_seconds: float = 1.0) -> list[Row]:
    rows = []
    unsupported: Mapping[str, str] = getattr(target, "unsupported", {})
    for operation, pair in sides(target).items():
        if operation in unsupported:
            reason = unsupported[operation]
            rows.append(Row(backend=target.name, operation=operation, where=where, skipped=reason))
            continue
        n = iterations if operation != "put_many(100)" else max(20, iterations // 2)
        try:
            rows.append(measure_one(target, operation, pair, n, where, min_seconds=min_seconds))
        except Exception as exc:  # one operation failing on a stand-in must not hide the rest
            error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            print(f"{target.name} {operation}: failed: {error}", file=sys.stderr)
            rows.append(Row(backend=target.name, operation=operation, where=where, error=error))
    return rows


def _outcome(row: Row) -> str:
    return f"failed: {row.error}" if row.error else f"not measured: {row.skipped}"


def print_table(rows: list[Row]) -> None:
    headers = [
        "backend",
        "operation",
        "p50 ms",
        "p95 ms",
        "raw p50",
        "raw p95",
        "ratio",
        "calls",
        "raw calls",
    ]
    cells = [
        [
            r.backend,
            r.operation,
            f"{r.p50_ms:.2f}",
            f"{r.p95_ms:.2f}",
            f"{r.raw_p50_ms:.2f}",
            f"{r.raw_p95_ms:.2f}",
            f"{r.ratio_p50:.2f}x",
            f"{r.round_trips:g}",
            f"{r.raw_round_trips:g}",
        ]
        if r.error is None and r.skipped is None
        else [r.backend, r.operation, "failed (below)" if r.error else "skipped (below)"] + [""] * 6
        for r in rows
    ]
    try:
        from rich.console import Console
        from rich.table import Table
    except ModuleNotFoundError:
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        for c in cells:
            print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))
        for r in rows:
            if r.error is not None or r.skipped is not None:
                print(f"{r.backend} {r.operation}: {_outcome(r)}")
        return
    table = Table(title="store backends: statekit vs raw SDK (p50 ratio; calls = requests per op)")
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i < 2 else "right")
    for c in cells:
        table.add_row(*c)
    console = Console(width=max(120, Console().width))
    console.print(table)
    for r in rows:
        if r.error is not None or r.skipped is not None:
            console.print(f"{r.backend} {r.operation}: {_outcome(r)}", markup=False)


def write_report(rows: list[Row], path: Path, machine: str) -> None:
    previous: list[dict[str, Any]] = []
    if path.exists():
        try:
            previous = list(json.loads(path.read_text()).get("results", []))
        except (ValueError, AttributeError):
            previous = []
    measured = {r.backend for r in rows}
    kept = [entry for entry in previous if entry.get("backend") not in measured]
    written_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    payload = {
        "benchmark": "store",
        "written_at": written_at,
        "where": machine,
        "results": kept + [{**asdict(r), "written_at": written_at} for r in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))


def machine_description() -> str:
    return (
        f"{platform.node()} ({platform.system()} {platform.release()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}); stand-ins on 127.0.0.1"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "targets", nargs="*", help=f"targets to run (default: all of {available()})"
    )
    parser.add_argument(
        "--iterations", type=int, default=200, help="samples per operation and side"
    )
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=1.0,
        help="fast operations take more samples, until this long per side",
    )
    parser.add_argument("--json", type=Path, default=REPORT, help="where to write the report")
    args = parser.parse_args(argv)
    names = args.targets or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"no target named {unknown[0]!r}; known: {', '.join(available())}")
    os.environ.setdefault("STATEKIT_HOME", tempfile.mkdtemp(prefix="statekit-bench-"))
    machine = machine_description()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="statekit-bench-") as folder:
        for name in names:
            try:
                target = make(name, Path(folder) / name)
            except Exception as exc:  # a missing SDK or stand-in skips that target, loudly
                print(f"skipped {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            try:
                where = f"{getattr(target, 'where', name)}; {machine}"
                rows += measure(target, args.iterations, where, min_seconds=args.min_seconds)
            except Exception as exc:  # setting the target up failed: say so, go on
                print(f"skipped {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            finally:
                target.close()
    if not rows:
        print("no target ran", file=sys.stderr)
        return 1
    print_table(rows)
    write_report(rows, args.json, machine)
    print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Cold-start import cost of each cloud's entry module against that cloud's SDK alone.

For each cloud, in fresh interpreters (``python -X importtime``), the median
over ``--runs`` of:

- SDK alone: the cloud modules a function of that cloud needs anyway
  (its functions runtime library and the SDKs of its state services);
- entry: the runtime adapter (``statekit.runtime.<cloud>``), the example App
  (``handlers.app``, which its first call loads) plus the statekit backends it
  uses on that cloud, which import those same SDKs.

Both are measured in the same interpreter (the SDK first, then the entry), and
the ratio is the median over runs of (SDK + entry) / SDK: what statekit and the
app add to a cold start. Goal: at most 1.1x. statekit and handlers are compiled
to bytecode first, as the function packages ship them.

    .venv/bin/python benchmarks/cold_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from modules.common.bytecode import compile_package
from modules.common.package import code_packages
from statekit.registry import CLOUDS

ROOT = Path(__file__).resolve().parents[1]

SDK_ALONE = {
    "aws": ["boto3"],
    "azure": ["azure.functions", "azure.durable_functions", "azure.cosmos", "azure.storage.queue"],
    "gcp": ["functions_framework", "google.cloud.firestore", "google.cloud.pubsub_v1"],
}
ENTRY = {
    "aws": [
        "statekit.runtime.aws",
        "handlers.app",
        "statekit.store.backends.dynamodb.store",
        "statekit.queue.backends.sqs",
    ],
    "azure": [
        "statekit.runtime.azure",
        "handlers.app",
        "statekit.store.backends.cosmos.store",
        "statekit.queue.backends.azurequeue",
    ],
    "gcp": [
        "statekit.runtime.gcp",
        "handlers.app",
        "statekit.store.backends.firestore.store",
        "statekit.queue.backends.pubsub",
    ],
}
# Other clouds' top-level packages: an entry module must import none of them.
FOREIGN = {
    "aws": ("azure", "google.cloud", "functions_framework"),
    "azure": ("boto3", "botocore", "google.cloud", "functions_framework"),
    "gcp": ("boto3", "botocore", "azure"),
}


MARK = "-- entry --"


def top_level_microseconds(lines: list[str]) -> int:
    """Sum of the top-level cumulative times in ``python -X importtime`` lines."""
    total = 0
    for line in lines:
        # "import time: self [us] | cumulative | imported package"; top level has no indent.
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = line.split("|")
        name = fields[2]
        if fields[1].strip().isdigit() and not name.startswith("  ") and name.strip():
            total += int(fields[1])
    return total


def paired_microseconds(sdk: list[str], entry: list[str]) -> tuple[int, int]:
    """In one fresh interpreter: (start-up + SDK imports, what the entry adds after them).

    Both halves from the same process, so the machine's drift between processes
    cancels out of the ratio.
    """
    code = (
        "; ".join(f"import {m}" for m in sdk)
        + f"; import sys; sys.stderr.write({MARK!r} + '\\n'); "
        + "; ".join(f"import {m}" for m in entry)
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    lines = result.stderr.splitlines()
    split = lines.index(MARK)
    return top_level_microseconds(lines[:split]), top_level_microseconds(lines[split + 1 :])


def compile_bytecode() -> None:
    """Bytecode for statekit and handlers, as the function packages ship it (modules/common/bytecode.py).

    Without it every fresh interpreter compiles them from source (and when
    PYTHONDONTWRITEBYTECODE is set, as on this machine, never caches the result),
    while the SDKs' bytecode was written when pip installed them.
    """
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for package in code_packages(["handlers"]):  # the example App's code, and statekit
        compile_package(ROOT / package, runtime)


def imported_modules(modules: list[str]) -> set[str]:
    # Modules with code only: a *-nspkg.pth file (functions-framework ships one) makes
    # empty ``google``/``google.cloud`` namespace modules in every interpreter.
    code = (
        "import sys; "
        + "; ".join(f"import {m}" for m in modules)
        + "; print('\\n'.join(n for n, m in list(sys.modules.items()) if getattr(m, '__file__', None)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(out.stdout.split())


def foreign_imports(cloud: str) -> list[str]:
    loaded = imported_modules([ENTRY[cloud][0]])
    return sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in FOREIGN[cloud]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    compile_bytecode()
    print(f"cold-start imports, median of {args.runs} fresh interpreters (python -X importtime)\n")
    print(
        f"{'cloud':<7}{'SDK alone ms':>14}{'entry ms':>11}{'ratio':>8}  other clouds' SDKs imported"
    )
    for cloud in CLOUDS:
        paired_microseconds(SDK_ALONE[cloud], ENTRY[cloud])  # warm the file cache
        pairs = [paired_microseconds(SDK_ALONE[cloud], ENTRY[cloud]) for _ in range(args.runs)]
        sdk = statistics.median(alone for alone, _ in pairs)
        entry = statistics.median(alone + added for alone, added in pairs)
        ratio = statistics.median((alone + added) / alone for alone, added in pairs)
        foreign = foreign_imports(cloud)
        print(
            f"{cloud:<7}{sdk / 1000:>14.1f}{entry / 1000:>11.1f}{ratio:>7.2f}x  {', '.join(foreign) or 'none'}"
        )


if __name__ == "__main__":
    main()

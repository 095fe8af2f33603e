"""Cold-start import cost of each cloud's entry module against that cloud's SDK alone.

For each cloud, in fresh interpreters (``python -X importtime``), the median
over ``--runs`` of:

- SDK alone: the cloud modules a function of that cloud needs anyway
  (its functions runtime library and the SDKs of its state services);
- entry: the entry module (``handlers.<cloud>``) plus the statekit backends it
  uses on that cloud, which import those same SDKs.

The ratio is what statekit and the app add to a cold start. Goal: at most 1.1x.

    .venv/bin/python benchmarks/cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SDK_ALONE = {
    "aws": ["boto3"],
    "azure": ["azure.functions", "azure.durable_functions", "azure.cosmos", "azure.storage.queue"],
    "gcp": ["functions_framework", "google.cloud.firestore", "google.cloud.pubsub_v1"],
}
ENTRY = {
    "aws": ["handlers.aws", "statekit.backends.dynamodb", "statekit.backends.queue_sqs"],
    "azure": ["handlers.azure", "statekit.backends.cosmos", "statekit.backends.queue_azure"],
    "gcp": ["handlers.gcp", "statekit.backends.firestore", "statekit.backends.queue_pubsub"],
}
# Other clouds' top-level packages: an entry module must import none of them.
FOREIGN = {
    "aws": ("azure", "google.cloud", "functions_framework"),
    "azure": ("boto3", "botocore", "google.cloud", "functions_framework"),
    "gcp": ("boto3", "botocore", "azure"),
}


def import_microseconds(modules: list[str]) -> int:
    """Sum of the top-level cumulative import times of ``modules`` in a fresh interpreter."""
    code = "; ".join(f"import {m}" for m in modules)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    total = 0
    for line in result.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"; top level has no indent.
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = line.split("|")
        name = fields[2]
        if fields[1].strip().isdigit() and not name.startswith("  ") and name.strip():
            total += int(fields[1])
    return total


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
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"cold-start imports, median of {args.runs} fresh interpreters (python -X importtime)\n")
    print(
        f"{'cloud':<7}{'SDK alone ms':>14}{'entry ms':>11}{'ratio':>8}  other clouds' SDKs imported"
    )
    for cloud in ("aws", "azure", "gcp"):
        sdk = statistics.median(import_microseconds(SDK_ALONE[cloud]) for _ in range(args.runs))
        entry = statistics.median(
            import_microseconds(SDK_ALONE[cloud] + ENTRY[cloud]) for _ in range(args.runs)
        )
        foreign = foreign_imports(cloud)
        print(
            f"{cloud:<7}{sdk / 1000:>14.1f}{entry / 1000:>11.1f}{entry / sdk:>7.2f}x  {', '.join(foreign) or 'none'}"
        )


if __name__ == "__main__":
    main()

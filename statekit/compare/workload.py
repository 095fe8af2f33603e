"""Workload profiles: monthly usage plus the needs that drive the advice.

A profile is a TOML file (``statekit/compare/workloads/*.toml`` ship as examples)::

    name = "small-web-app"
    description = "..."
    [usage]             # per month
    reads = 3_000_000
    ...
    [needs]
    data_longevity = "years"        # ephemeral | days | years
    ...
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

HOURS_PER_MONTH = 730  # the convention all three clouds' calculators use

USAGE_FIELDS = {
    "reads": "store reads (items up to 1 KB, strongly consistent)",
    "writes": "store writes (items up to 1 KB)",
    "storage_gb": "data kept in the store, GB",
    "cache_size_gb": "data kept in the cache, GB",
    "cache_requests": "cache gets and sets (default: equal to reads)",
    "queue_messages": "messages sent (each is also received and acknowledged once)",
    "workflow_transitions": "workflow state transitions (steps)",
    "function_invocations": "function invocations",
    "function_gb_seconds": "function memory x duration, GB-seconds",
    "log_gb": "logs ingested, GB",
}
NEEDS = {
    "data_longevity": ("ephemeral", "days", "years"),
    "consistency": ("strong", "eventual"),
    "workflow_complexity": ("none", "simple", "complex"),
    "cost_sensitivity": ("low", "medium", "high"),
}
WORKLOAD_DIR = Path(__file__).with_name("workloads")
DEFAULT_WORKLOAD = "small-web-app"


class WorkloadError(ValueError):
    """A workload file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    usage: dict[str, float]
    needs: dict[str, str]
    source: str = ""

    def quantities(self) -> dict[str, float]:
        """Usage plus the derived quantities pricing rows refer to (``hours``, ``month``, ...)."""
        derived = dict(self.usage)
        if "cache_size_gb" in derived:
            derived["cache_gb_hours"] = derived["cache_size_gb"] * HOURS_PER_MONTH
        if "cache_requests" not in derived and "reads" in derived:
            derived["cache_requests"] = derived["reads"]
        derived["hours"] = HOURS_PER_MONTH
        derived["month"] = 1
        return derived


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WorkloadError(f"{where}: expected a number, got {value!r}")
    if value < 0:
        raise WorkloadError(f"{where}: must not be negative, got {value}")
    return float(value)


def load_workload(path: Path) -> Workload:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise WorkloadError(f"{path}: cannot read workload file ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise WorkloadError(f"{path}: not valid TOML ({exc})") from exc
    unknown = set(data) - {"name", "description", "usage", "needs"}
    if unknown:
        raise WorkloadError(
            f"{path}: unknown top-level keys {sorted(unknown)}; expected name, description, [usage], [needs]"
        )
    usage_table = data.get("usage", {})
    if not isinstance(usage_table, dict) or not usage_table:
        raise WorkloadError(
            f"{path}: [usage] table is missing or empty; keys: {', '.join(USAGE_FIELDS)}"
        )
    usage: dict[str, float] = {}
    for key, value in usage_table.items():
        if key not in USAGE_FIELDS:
            raise WorkloadError(
                f"{path}: [usage].{key} is not a known quantity; known: {', '.join(USAGE_FIELDS)}"
            )
        usage[key] = _number(value, f"{path}: [usage].{key}")
    needs: dict[str, str] = {}
    for key, value in data.get("needs", {}).items():
        allowed = NEEDS.get(key)
        if allowed is None:
            raise WorkloadError(
                f"{path}: [needs].{key} is not a known need; known: {', '.join(NEEDS)}"
            )
        if value not in allowed:
            raise WorkloadError(f"{path}: [needs].{key} = {value!r}; allowed: {', '.join(allowed)}")
        needs[key] = value
    return Workload(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")),
        usage=usage,
        needs=needs,
        source=str(path),
    )


def find_workload(spec: str | None) -> Path:
    """A path, or the name of a shipped example (``busy-api``)."""
    if spec is None:
        return WORKLOAD_DIR / f"{DEFAULT_WORKLOAD}.toml"
    path = Path(spec)
    if path.exists():
        return path
    shipped = WORKLOAD_DIR / f"{spec}.toml"
    if shipped.exists():
        return shipped
    examples = ", ".join(sorted(p.stem for p in WORKLOAD_DIR.glob("*.toml")))
    raise WorkloadError(f"{spec}: no such workload file, and not a shipped example ({examples})")

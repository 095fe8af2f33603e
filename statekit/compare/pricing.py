"""``pricing.csv``: one row per priced unit. Data, not code; this file only reads and checks it.

Columns:
  cloud, component, resource_type  which synthesized resource the row prices, and the
                                   component its cost is shown under
  match          ``attr=value|value`` clauses joined by ``;`` on the resource's attributes
                 (``-`` means unset, ``*`` means set to anything); empty matches every resource
  choice         rows sharing a choice are alternatives: a resource none of them match
                 is listed as not priced (e.g. a cache node type without a row)
  unit           what one price buys, for people ("1M write request units")
  usage          the workload quantity it scales with (``writes``), or ``hours``/``month``
                 for a fixed monthly floor charged per resource
  units_per_usage  units per usage item (3 SQS requests per message)
  scale_by       an attribute whose number multiplies the units (node count, GB), or empty
  per            how many units the price is for (1000000 for "per million")
  minimum        units billed at least per month (a fixed floor), 0 if none
  region, price_usd, source, checked, note
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statekit.compare.tfjson import Resource
from statekit.registry import CLOUDS

PRICING_FILE = Path(__file__).with_name("pricing.csv")
COLUMNS = (
    "cloud",
    "component",
    "resource_type",
    "match",
    "choice",
    "unit",
    "usage",
    "units_per_usage",
    "scale_by",
    "per",
    "minimum",
    "region",
    "price_usd",
    "source",
    "checked",
    "note",
)
FIXED_USAGES = ("hours", "month")


class PricingError(ValueError):
    """A pricing file row that cannot be used; the message names the file, line and column."""


@dataclass(frozen=True)
class PriceRow:
    cloud: str
    component: str
    resource_type: str
    match: str
    choice: str
    unit: str
    usage: str
    units_per_usage: float
    scale_by: str
    per: float
    minimum: float
    region: str
    price_usd: float
    source: str
    checked: str
    note: str
    line: int

    @property
    def fixed(self) -> bool:
        return self.usage in FIXED_USAGES

    def matches(self, resource: Resource) -> bool:
        for clause in filter(None, (part.strip() for part in self.match.split(";"))):
            dotted, _, wanted = clause.partition("=")
            allowed = {choice.strip().lower() for choice in wanted.split("|")}
            values = values_at(resource.config, dotted.strip())
            if "*" in allowed and any(v not in (None, "", [], {}) for v in values):
                continue
            if not any(("-" if v is None else str(v).lower()) in allowed for v in values):
                return False
        return True

    def scale(self, resource: Resource) -> float | None:
        """The multiplier from ``scale_by`` (None if the attribute is missing or not a number)."""
        if not self.scale_by:
            return 1.0
        value = resource.get(self.scale_by)
        if isinstance(value, list):  # e.g. subnet_ids: one charge per availability zone
            return float(len(value))
        if isinstance(value, str):
            try:
                value = float(value.removesuffix("M").removesuffix("Gi"))
            except ValueError:
                return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)


def values_at(config: Any, dotted: str) -> list[Any]:
    """Every value at ``dotted``, through lists of blocks (``capabilities.name``); [None] if absent."""
    current: list[Any] = [config]
    for part in dotted.split("."):
        following: list[Any] = []
        for value in current:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and part in item:
                    following.append(item[part])
        current = following
    flattened = [
        item for value in current for item in (value if isinstance(value, list) else [value])
    ]
    return flattened or [None]


def _float(text: str, where: str) -> float:
    try:
        return float(text) if text.strip() else 0.0
    except ValueError as exc:
        raise PricingError(f"{where}: expected a number, got {text!r}") from exc


def load_pricing(path: Path = PRICING_FILE) -> list[PriceRow]:
    """Rows of the pricing file; ``#`` lines are comments (the header says when to re-check)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise PricingError(f"{path}: cannot read pricing file ({exc.strerror})") from exc
    numbered = [
        (n, line)
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.startswith("#")
    ]
    if not numbered:
        raise PricingError(f"{path}: no rows")
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in numbered)))
    missing = set(COLUMNS) - set(reader.fieldnames or ())
    if missing:
        raise PricingError(f"{path}: header lacks columns {sorted(missing)}")
    rows = []
    for (line_number, _), record in zip(numbered[1:], reader, strict=True):
        where = f"{path}:{line_number}"
        if record["cloud"] not in CLOUDS:
            raise PricingError(
                f"{where}: cloud must be one of {', '.join(CLOUDS)}, got {record['cloud']!r}"
            )
        if not record["source"].startswith("https://"):
            raise PricingError(f"{where}: source must be the https:// address of the pricing page")
        per = _float(record["per"], f"{where} per")
        if per <= 0:
            raise PricingError(f"{where}: per must be positive")
        rows.append(
            PriceRow(
                cloud=record["cloud"],
                component=record["component"],
                resource_type=record["resource_type"],
                match=record["match"] or "",
                choice=record["choice"] or "",
                unit=record["unit"],
                usage=record["usage"],
                units_per_usage=_float(
                    record["units_per_usage"] or "1", f"{where} units_per_usage"
                ),
                scale_by=record["scale_by"] or "",
                per=per,
                minimum=_float(record["minimum"], f"{where} minimum"),
                region=record["region"],
                price_usd=_float(record["price_usd"], f"{where} price_usd"),
                source=record["source"],
                checked=record["checked"],
                note=record["note"] or "",
                line=line_number,
            )
        )
    return rows

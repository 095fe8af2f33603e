"""Monthly cost per cloud and component: pricing rows applied to a stack and a workload.

For each price row: units = usage quantity x units_per_usage x scale_by attribute;
billed = max(units, minimum); cost = billed / per x price. The part a row charges
whatever the workload does (``hours``/``month`` rows, and ``minimum``) is the
*floor*; the rest is *usage*. Usage rows are charged once per resource type
(the workload's reads are the workload's, however many tables share them); fixed
rows once per resource. Anything that cannot be priced is listed, never zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from statekit.compare.pricing import PriceRow
from statekit.compare.tfjson import Resource, Stack
from statekit.compare.workload import Workload


@dataclass(frozen=True)
class CostLine:
    cloud: str
    component: str
    resource_type: str
    unit: str
    units: float
    price_usd: float
    per: float
    floor_usd: float
    usage_usd: float
    region_note: str
    row: PriceRow

    @property
    def total_usd(self) -> float:
        return self.floor_usd + self.usage_usd


@dataclass(frozen=True)
class Unpriced:
    cloud: str
    component: str
    what: str
    reason: str


@dataclass
class CloudCost:
    cloud: str
    region: str
    lines: list[CostLine] = field(default_factory=list)
    unpriced: list[Unpriced] = field(default_factory=list)

    def by_component(self) -> dict[str, tuple[float, float]]:
        """component -> (floor, usage) in USD per month."""
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for line in self.lines:
            totals[line.component][0] += line.floor_usd
            totals[line.component][1] += line.usage_usd
        return {component: (floor, usage) for component, (floor, usage) in totals.items()}

    @property
    def floor_usd(self) -> float:
        return sum(line.floor_usd for line in self.lines)

    @property
    def usage_usd(self) -> float:
        return sum(line.usage_usd for line in self.lines)

    @property
    def total_usd(self) -> float:
        return self.floor_usd + self.usage_usd


def _rows_for_region(rows: list[PriceRow], region: str) -> tuple[list[PriceRow], str]:
    """The rows for the stack's region; else another region's, flagged (never silently)."""
    exact = [row for row in rows if row.region in (region, "*")]
    if exact:
        return exact, ""
    fallback = rows[0].region
    return [
        row for row in rows if row.region == fallback
    ], f"priced at {fallback} list price (no row for {region})"


def _charge(row: PriceRow, units: float, region_note: str, cloud: str) -> CostLine:
    billed = max(units, row.minimum)
    floor_units = units if row.fixed else min(row.minimum, billed)
    floor = floor_units / row.per * row.price_usd
    usage = billed / row.per * row.price_usd - floor
    return CostLine(
        cloud,
        row.component,
        row.resource_type,
        row.unit,
        billed,
        row.price_usd,
        row.per,
        floor,
        usage,
        region_note,
        row,
    )


def estimate(stack: Stack, workload: Workload, pricing: list[PriceRow]) -> CloudCost:
    result = CloudCost(cloud=stack.cloud, region=stack.region)
    quantities = workload.quantities()
    by_type: dict[str, list[Resource]] = defaultdict(list)
    for resource in stack.resources:
        by_type[resource.type].append(resource)
    cloud_rows = [row for row in pricing if row.cloud == stack.cloud]
    for type_, resources in sorted(by_type.items()):
        type_rows = [row for row in cloud_rows if row.resource_type == type_]
        component = resources[0].component
        if not type_rows:
            result.unpriced.append(
                Unpriced(
                    stack.cloud,
                    component,
                    f"{type_} x{len(resources)}",
                    "no row in pricing.csv for this resource type",
                )
            )
            continue
        rows, region_note = _rows_for_region(type_rows, stack.region)
        for resource in resources:
            for choice in sorted({row.choice for row in rows if row.choice}):
                if not any(row.matches(resource) for row in rows if row.choice == choice):
                    result.unpriced.append(
                        Unpriced(
                            stack.cloud,
                            component,
                            f"{type_} {resource.name}",
                            f"no {choice} price row matches its settings",
                        )
                    )
        for row in rows:
            matching = [resource for resource in resources if row.matches(resource)]
            if not matching:
                continue
            base = quantities.get(row.usage)
            if base is None:
                result.unpriced.append(
                    Unpriced(
                        stack.cloud,
                        row.component,
                        f"{type_}: {row.unit}",
                        f"the workload gives no {row.usage!r}",
                    )
                )
                continue
            charged = matching if row.fixed else matching[:1]
            for resource in charged:
                scale = row.scale(resource)
                if scale is None:
                    result.unpriced.append(
                        Unpriced(
                            stack.cloud,
                            row.component,
                            f"{type_} {resource.name}: {row.unit}",
                            f"attribute {row.scale_by!r} is not a number in the stack",
                        )
                    )
                    continue
                result.lines.append(
                    _charge(row, base * row.units_per_usage * scale, region_note, stack.cloud)
                )
    return result

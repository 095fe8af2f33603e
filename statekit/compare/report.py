"""Everything ``statekit compare`` shows, gathered once; the terminal and HTML views only render it."""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from statekit.compare.advice import Advice, advise
from statekit.compare.artifacts import load_stacks
from statekit.compare.capabilities import SuiteMatrix, load_matrices
from statekit.compare.components import COMPONENTS
from statekit.compare.cost import CloudCost, estimate
from statekit.compare.performance import Measurement, load_measurements
from statekit.compare.pricing import PRICING_FILE, PriceRow, PricingError, load_pricing
from statekit.compare.settings_rules import Setting, settings_of
from statekit.compare.tfjson import CLOUD_ORDER, Resource, Stack
from statekit.compare.workload import Workload


@dataclass
class ComponentView:
    """One component on one cloud: what the stack creates and the settings that matter."""

    resources: list[Resource] = field(default_factory=list)
    settings: list[Setting] = field(default_factory=list)


@dataclass
class Report:
    env: str
    workload: Workload
    generated_at: str
    stacks: dict[str, Stack]
    components: dict[str, dict[str, ComponentView]]  # component -> cloud -> view
    matrices: list[SuiteMatrix]
    measurements: list[Measurement]
    costs: dict[str, CloudCost]
    pricing_checked: str
    advice: list[Advice]
    verdict: str
    notes: dict[str, list[str]] = field(default_factory=dict)  # section -> notes
    switched_off: dict[str, str] = field(
        default_factory=dict
    )  # component -> where it is switched off

    @property
    def clouds(self) -> list[str]:
        return [cloud for cloud in CLOUD_ORDER if cloud in self.stacks]


def switched_off(root: Path, env: str) -> dict[str, str]:
    """Components the environment file turns off, so an empty cell can say why."""
    path = root / "environments" / f"{env}.toml"
    try:
        components = tomllib.loads(path.read_text()).get("components", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {
        name: f"switched off in environments/{env}.toml"
        for name, enabled in components.items()
        if enabled is False
    }


def component_views(stacks: dict[str, Stack]) -> dict[str, dict[str, ComponentView]]:
    """Every component (empty where no cloud creates it), then network and shared if present."""
    order = [*COMPONENTS, "network", "shared"]
    views: dict[str, dict[str, ComponentView]] = (
        {component: {} for component in COMPONENTS} if stacks else {}
    )
    for component in order:
        for cloud, stack in stacks.items():
            resources = stack.of_component(component)
            if not resources:
                continue
            view = views.setdefault(component, {}).setdefault(cloud, ComponentView())
            view.resources.extend(resources)
            for resource in resources:
                view.settings.extend(settings_of(resource, stack))
    return {component: views[component] for component in order if component in views}


def build_report(
    root: Path,
    env: str,
    workload: Workload,
    *,
    report_dir: Path | None = None,
    pricing_file: Path = PRICING_FILE,
    synth: bool = True,
    outdir: Path | None = None,
    app: str | None = None,
) -> Report:
    report_dir = report_dir or root / ".statekit" / "reports"
    notes: dict[str, list[str]] = {}
    stack_set = load_stacks(root, env, outdir=outdir, synth=synth, app=app)
    notes["resources"] = stack_set.notes
    matrices, notes["capabilities"] = load_matrices(report_dir)
    if not matrices:
        notes["capabilities"].append(
            f"no conformance reports in {report_dir}: run `make test` (or `pytest tests/conformance`)"
        )
    measurements, notes["performance"] = load_measurements(report_dir)
    if not measurements:
        notes["performance"].append(f"no benchmark reports in {report_dir}: run `make benchmarks`")
    costs: dict[str, CloudCost] = {}
    pricing: list[PriceRow] = []
    notes["cost"] = []
    try:
        pricing = load_pricing(pricing_file)
    except PricingError as exc:
        notes["cost"].append(str(exc))
    if pricing:
        for cloud, stack in stack_set.stacks.items():
            costs[cloud] = estimate(stack, workload, pricing)
    checked = sorted({row.checked for row in pricing})
    advice, verdict = advise(workload, stack_set.stacks, costs, matrices)
    return Report(
        env=env,
        workload=workload,
        generated_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        stacks=stack_set.stacks,
        components=component_views(stack_set.stacks),
        matrices=matrices,
        measurements=measurements,
        costs=costs,
        pricing_checked=", ".join(checked) or "?",
        advice=advice,
        verdict=verdict,
        notes=notes,
        switched_off=switched_off(root, env),
    )

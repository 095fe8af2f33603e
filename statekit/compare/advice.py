"""Advice for a workload: which approach and which cloud fit, with the reasons shown.

Four decision factors from the workload's ``[needs]``: data longevity, consistency,
workflow complexity and cost sensitivity. Each rule reads the measured inputs
(the stacks' settings, the estimate, the conformance results), so a reason always
points at something in the report rather than at an opinion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from statekit.compare.backends import cloud_of_backend
from statekit.compare.capabilities import SuiteMatrix
from statekit.compare.cost import CloudCost
from statekit.compare.settings_rules import settings_of
from statekit.compare.tfjson import CLOUD_NAMES, Stack
from statekit.compare.workload import Workload

# The order of the four factors in the advice; a factor the workload leaves out is assumed.
ASSUMED = ("data_longevity", "consistency", "workflow_complexity", "cost_sensitivity")


@dataclass
class Advice:
    factor: str
    recommendation: str
    reasons: list[str] = field(default_factory=list)


def _setting(stack: Stack, component: str, label_part: str) -> list[str]:
    values = []
    for resource in stack.of_component(component):
        for setting in settings_of(resource, stack):
            if label_part in setting.label:
                values.append(setting.value)
    return values


def _longevity(need: str, stacks: dict[str, Stack]) -> Advice:
    if need == "ephemeral":
        advice = Advice(
            "data longevity: ephemeral",
            "Keep it in the cache, or in the store with a TTL; no backups needed.",
        )
        for cloud, stack in stacks.items():
            has_cache = bool(stack.of_component("cache"))
            advice.reasons.append(
                f"{CLOUD_NAMES[cloud]}: managed cache {'in the stack' if has_cache else 'switched off (in-process cache used)'}"
            )
        return advice
    advice = Advice(
        f"data longevity: {need}",
        "Store with native TTL for expiring items"
        if need == "days"
        else "Store with point-in-time recovery and deletion protection on",
    )
    for cloud, stack in stacks.items():
        recovery = _setting(stack, "database", "point-in-time") + _setting(
            stack, "database", "backup"
        )
        protection = _setting(stack, "database", "delet")
        advice.reasons.append(
            f"{CLOUD_NAMES[cloud]}: recovery {', '.join(recovery) or 'not set'}; "
            f"deletion protection {', '.join(protection) or 'not set'}"
        )
        if need == "years" and any(
            v.startswith(("off", "POINT_IN_TIME_RECOVERY_DISABLED", "periodic")) for v in recovery
        ):
            advice.reasons.append(
                f"  -> turn point-in-time recovery on for {CLOUD_NAMES[cloud]} in this environment file"
            )
    return advice


def _consistency(need: str, stacks: dict[str, Stack], matrices: list[SuiteMatrix]) -> Advice:
    advice = Advice(f"consistency: {need}", "")
    if need == "eventual":
        advice.recommendation = (
            "Any of the three; eventually consistent reads cost half on DynamoDB."
        )
        return advice
    advice.recommendation = "DynamoDB (strong reads per request) or Firestore (always strong); Cosmos DB only at Strong."
    for cloud, stack in stacks.items():
        levels = _setting(stack, "database", "consistency") + _setting(stack, "database", "reads")
        advice.reasons.append(
            f"{CLOUD_NAMES[cloud]}: {', '.join(levels) or 'no consistency setting in the stack'}"
        )
        if cloud == "azure" and levels and not any("Strong" in level for level in levels):
            advice.reasons.append(
                "  -> this Cosmos DB account is weaker than Strong: reads may lag writes made elsewhere"
            )
    for matrix in matrices:
        for backend in matrix.backends:
            counts = matrix.counts(backend)
            if counts.get("failed") or counts.get("xfailed"):
                advice.reasons.append(
                    f"conformance ({matrix.suite}) {backend} [{cloud_of_backend(backend)}]: "
                    f"{counts.get('failed', 0)} failed, {counts.get('xfailed', 0)} expected failures on its stand-in"
                )
    return advice


def _workflows(need: str, costs: dict[str, CloudCost]) -> Advice:
    recommendation = {
        "none": "No orchestrator: a queue and functions are enough (switch [components] orchestrator off).",
        "simple": "A queue chain or the orchestrator; the orchestrator's cost per step decides.",
        "complex": "A managed orchestrator (retries, timeouts, compensations in one definition).",
    }[need]
    advice = Advice(f"workflow complexity: {need}", recommendation)
    for cloud, cost in costs.items():
        floor, usage = cost.by_component().get("orchestrator", (0.0, 0.0))
        advice.reasons.append(
            f"{CLOUD_NAMES[cloud]}: orchestrator ${floor + usage:,.2f}/month for this workload"
        )
    if need == "complex":
        advice.reasons.append(
            "Step Functions and Cloud Workflows keep execution history; Durable Functions replays code"
        )
    return advice


def _cost(need: str, costs: dict[str, CloudCost]) -> tuple[Advice, str | None]:
    ranked = sorted(costs.values(), key=lambda cost: cost.total_usd)
    advice = Advice(f"cost sensitivity: {need}", "")
    if not ranked:
        advice.recommendation = "No estimate (no synthesized stacks)."
        return advice, None
    cheapest = ranked[0]
    for cost in ranked:
        share = cost.floor_usd / cost.total_usd * 100 if cost.total_usd else 0
        unpriced = f"; {len(cost.unpriced)} item(s) not priced" if cost.unpriced else ""
        floors = {
            component: floor for component, (floor, _) in cost.by_component().items() if floor > 0
        }
        biggest = max(floors, key=floors.__getitem__) if floors else None
        largest = f" (largest: {biggest} ${floors[biggest]:,.2f})" if biggest else ""
        advice.reasons.append(
            f"{CLOUD_NAMES[cost.cloud]}: ${cost.total_usd:,.2f}/month, "
            f"{share:.0f}% of it fixed floors{largest}{unpriced}"
        )
    if need == "high":
        dominant = (
            "fixed floors decide at this volume"
            if cheapest.floor_usd > cheapest.usage_usd
            else "usage decides at this volume, so the per-request prices matter most"
        )
        advice.recommendation = f"{CLOUD_NAMES[cheapest.cloud]}: lowest estimate; {dominant}."
    elif need == "medium":
        advice.recommendation = (
            f"{CLOUD_NAMES[cheapest.cloud]} is cheapest; weigh it against the capability matrix."
        )
    else:
        advice.recommendation = "Cost does not decide: choose on capabilities and the team's cloud."
    return advice, cheapest.cloud if need in ("high", "medium") else None


def advise(
    workload: Workload,
    stacks: dict[str, Stack],
    costs: dict[str, CloudCost],
    matrices: list[SuiteMatrix],
) -> tuple[list[Advice], str]:
    """The per-factor advice and a one-line verdict."""
    needs = workload.needs
    items = [
        _longevity(needs.get("data_longevity", "years"), stacks),
        _consistency(needs.get("consistency", "strong"), stacks, matrices),
        _workflows(needs.get("workflow_complexity", "simple"), costs),
    ]
    cost_advice, pick = _cost(needs.get("cost_sensitivity", "medium"), costs)
    items.append(cost_advice)
    for item, need in zip(items, ASSUMED, strict=True):
        if need not in needs:
            item.factor += f" (assumed: the workload has no [needs].{need})"
    approach = approach_for(needs)
    if not stacks:
        return items, f"{approach} No cloud verdict: synthesize the stacks first (`make synth`)."
    if pick is None:
        return (
            items,
            f"{approach} Any of the clouds fits on cost; decide on the capability matrix and the settings above.",
        )
    failing = failed_tests(matrices)
    verdict = f"{approach} {CLOUD_NAMES[pick]} fits this workload best on cost"
    if failing.get(pick):
        verdict += (
            f", but its backends fail {failing[pick]} conformance test(s) on the stand-ins: "
            "see the capability matrix before choosing it"
        )
    return items, verdict + "; check the consistency and longevity notes."


def approach_for(needs: dict[str, str]) -> str:
    """The approach in one sentence, from the four needs (defaults as in ``advise``)."""
    keep = {
        "ephemeral": "the cache (or store items with a TTL)",
        "days": "the store with TTL on expiring items",
        "years": "the store with point-in-time recovery and deletion protection",
    }[needs.get("data_longevity", "years")]
    reads = {"strong": "strongly consistent reads", "eventual": "eventually consistent reads"}[
        needs.get("consistency", "strong")
    ]
    flow = {
        "none": "a queue and functions without an orchestrator",
        "simple": "a queue chain or the orchestrator",
        "complex": "the managed orchestrator with retries and compensations",
    }[needs.get("workflow_complexity", "simple")]
    return f"Approach: {keep}, {reads}, {flow}."


def failed_tests(matrices: list[SuiteMatrix]) -> dict[str, int]:
    """Failed (not expected-to-fail) conformance tests per cloud."""
    failing: dict[str, int] = {}
    for matrix in matrices:
        for backend in matrix.backends:
            cloud = cloud_of_backend(backend)
            failing[cloud] = failing.get(cloud, 0) + matrix.counts(backend).get("failed", 0)
    return failing

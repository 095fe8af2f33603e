"""Advice follows the workload's needs and points at what the report measured."""

from __future__ import annotations

from pathlib import Path

from statekit.compare.report import build_report
from statekit.compare.workload import find_workload, load_workload
from tests.compare.fixtures import write_reports, write_stacks


def advice_for(root: Path, workload: str) -> tuple[dict[str, list[str]], str]:
    report = build_report(root, "dev", load_workload(find_workload(workload)), synth=False)
    return {
        a.factor.split(":")[0]: [a.recommendation, *a.reasons] for a in report.advice
    }, report.verdict


def test_long_lived_strongly_consistent_data_flags_weak_settings(tmp_path: Path) -> None:
    write_stacks(tmp_path / "cdktf.out", pitr=False)
    write_reports(tmp_path / ".statekit" / "reports")
    advice, verdict = advice_for(tmp_path, "small-web-app")
    assert (
        "  -> turn point-in-time recovery on for AWS in this environment file"
        in advice["data longevity"]
    )
    assert (
        "  -> this Cosmos DB account is weaker than Strong: reads may lag writes made elsewhere"
        in advice["consistency"]
    )
    assert any("cosmos [azure]: 0 failed, 1 expected failures" in r for r in advice["consistency"])
    assert verdict.startswith(
        "Approach: the store with point-in-time recovery and deletion protection"
    )


def test_the_cheapest_cloud_is_named_with_its_total(tmp_path: Path) -> None:
    write_stacks(tmp_path / "cdktf.out", pitr=True)
    advice, verdict = advice_for(tmp_path, "batch-pipeline")
    ranked = advice["cost sensitivity"][1:]
    totals = [float(line.split("$")[1].split("/")[0].replace(",", "")) for line in ranked]
    assert totals == sorted(totals)
    cheapest = ranked[0].split(":")[0]
    assert f"{cheapest} fits this workload best on cost" in verdict
    assert "eventually consistent reads, the managed orchestrator" in verdict


def test_no_stacks_no_cloud_verdict(tmp_path: Path) -> None:
    _, verdict = advice_for(tmp_path, "busy-api")
    assert "No cloud verdict: synthesize the stacks first (`make synth`)." in verdict

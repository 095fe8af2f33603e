"""A setting changed in an environment shows up in the settings column, read from the stack JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from statekit.compare.report import build_report
from statekit.compare.workload import find_workload, load_workload
from tests.compare.fixtures import write_reports, write_stacks


def database_settings(root: Path, env: str, cloud: str) -> list[str]:
    report = build_report(root, env, load_workload(find_workload("small-web-app")), synth=False)
    view = report.components["database"][cloud]
    return [f"{s.label}: {s.value}" for s in view.settings]


@pytest.mark.parametrize(
    ("pitr", "shown"),
    [(False, "point-in-time recovery: off"), (True, "point-in-time recovery: on")],
)
def test_point_in_time_recovery_follows_the_stack(tmp_path: Path, pitr: bool, shown: str) -> None:
    write_stacks(tmp_path / "cdktf.out", pitr=pitr)
    assert shown in database_settings(tmp_path, "dev", "aws")


def test_each_cloud_shows_the_settings_that_matter(tmp_path: Path) -> None:
    write_stacks(tmp_path / "cdktf.out")
    write_reports(tmp_path / ".statekit" / "reports")
    report = build_report(
        tmp_path, "dev", load_workload(find_workload("small-web-app")), synth=False
    )
    azure = [f"{s.label}: {s.value}" for s in report.components["database"]["azure"].settings]
    assert "consistency: Session" in azure
    assert "TLS minimum: Tls12" in azure
    assert any(line.startswith("network: public endpoint; keys disabled") for line in azure)
    queues = {
        cloud: [f"{s.label}: {s.value}" for s in view.settings]
        for cloud, view in report.components["queue"].items()
    }
    assert "dead letters: to aws_sqs_queue queue/dlq after 3 receives" in queues["aws"]
    assert "dead letters: to statekit-work-poison (statekit convention)" in queues["azure"]
    assert (
        "dead letters: to google_pubsub_topic queue/dead-letter-topic after 5 deliveries"
        in queues["gcp"]
    )
    cache = [f"{s.label}: {s.value}" for s in report.components["cache"]["gcp"].settings]
    assert "in transit: SERVER_AUTHENTICATION" in cache


def test_missing_stacks_give_a_note_with_the_command(tmp_path: Path) -> None:
    report = build_report(
        tmp_path, "dev", load_workload(find_workload("small-web-app")), synth=False
    )
    assert report.stacks == {}
    assert any("make synth" in note for note in report.notes["resources"])
    assert any("make test" in note for note in report.notes["capabilities"])
    assert any("make benchmarks" in note for note in report.notes["performance"])

"""Workload profiles: the shipped examples load, and bad files say what is wrong and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from statekit.compare.workload import (
    HOURS_PER_MONTH,
    WORKLOAD_DIR,
    WorkloadError,
    find_workload,
    load_workload,
)


def test_the_shipped_examples_load() -> None:
    names = sorted(path.stem for path in WORKLOAD_DIR.glob("*.toml"))
    assert names == ["batch-pipeline", "busy-api", "small-web-app"]
    for name in names:
        workload = load_workload(find_workload(name))
        assert workload.usage["reads"] > 0
        assert set(workload.needs) == {
            "data_longevity",
            "consistency",
            "workflow_complexity",
            "cost_sensitivity",
        }


def test_derived_quantities() -> None:
    workload = load_workload(find_workload("small-web-app"))
    quantities = workload.quantities()
    assert quantities["cache_gb_hours"] == workload.usage["cache_size_gb"] * HOURS_PER_MONTH
    assert quantities["hours"] == 730
    assert quantities["month"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[usage]\nreeds = 1\n", r"\[usage\]\.reeds is not a known quantity"),
        ("[usage]\nreads = -5\n", r"\[usage\]\.reads: must not be negative"),
        ("[usage]\nreads = 'many'\n", r"\[usage\]\.reads: expected a number"),
        (
            "[usage]\nreads = 1\n[needs]\nconsistency = 'sometimes'\n",
            r"\[needs\]\.consistency = 'sometimes'; allowed: strong, eventual",
        ),
        ("name = 'x'\n", r"\[usage\] table is missing"),
        ("[usage\n", "not valid TOML"),
    ],
)
def test_bad_workload_files_are_refused_with_the_place(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(WorkloadError, match=message) as caught:
        load_workload(path)
    assert str(path) in str(caught.value)


def test_an_unknown_workload_name_lists_the_examples() -> None:
    with pytest.raises(WorkloadError, match="batch-pipeline, busy-api, small-web-app"):
        find_workload("no-such-profile")

"""The settings column from the real ``python main.py``: an environment file's change shows up.

A copy of the project's stack code and environment files goes to a temporary folder,
with one extra environment that differs from ``dev`` only in point-in-time recovery;
one synthesis (AWS only, the quickest provider) writes both stacks there.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from statekit.compare.report import build_report
from statekit.compare.workload import find_workload, load_workload

ROOT = Path(__file__).resolve().parents[2]
# Clouds whose stack module exists (the others are still being written).
CLOUDS_WITH_STACKS = [
    c for c in ("aws", "azure", "gcp") if (ROOT / "modules" / c / "stack.py").exists()
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("cdktn") is None or not (ROOT / "main.py").exists():
        pytest.skip(
            "cdktn or main.py missing: the iac extra is not installed (pip install -e '.[iac]')"
        )
    project = tmp_path_factory.mktemp("project")
    # main.py, modules/ and environments/ are copied (each finds the others next to itself,
    # through resolved paths); everything else the synthesis reads (handlers, statekit) is linked.
    shutil.copy(ROOT / "main.py", project / "main.py")
    shutil.copytree(
        ROOT / "modules", project / "modules", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "environments", project / "environments")
    for entry in ROOT.iterdir():
        if entry.name not in {
            "main.py",
            "modules",
            "environments",
            "cdktf.out",
            "build",
            ".git",
            ".statekit",
        }:
            (project / entry.name).symlink_to(entry)
    dev = (project / "environments" / "dev.toml").read_text()
    assert re.search(r"^point_in_time_recovery = false", dev, re.M), (
        "dev.toml no longer turns PITR off"
    )
    changed = re.sub(r'^name = "dev"', 'name = "devpitr"', dev, flags=re.M)
    changed = re.sub(
        r"^point_in_time_recovery = false", "point_in_time_recovery = true", changed, flags=re.M
    )
    (project / "environments" / "devpitr.toml").write_text(changed)
    environment = {
        **os.environ,
        "STATEKIT_ENVS": ",".join(
            sorted(path.stem for path in (project / "environments").glob("*.toml"))
        ),
        "STATEKIT_CLOUDS": ",".join(CLOUDS_WITH_STACKS),
        "CDKTF_OUTDIR": str(project / "cdktf.out"),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(ROOT / ".jsii-cache"),
    }
    done = subprocess.run(
        [sys.executable, "main.py"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return project


def test_point_in_time_recovery_from_the_environment_file_shows_in_the_settings(
    synthesized: Path,
) -> None:
    workload = load_workload(find_workload("small-web-app"))
    shown = {}
    for env in ("dev", "devpitr"):
        report = build_report(synthesized, env, workload, synth=False)
        database = report.components["database"]["aws"]
        shown[env] = {s.label: s.value for s in database.settings}
    assert shown["dev"]["point-in-time recovery"] == "off"
    assert shown["devpitr"]["point-in-time recovery"] == "on"
    # The estimate follows: PITR is priced per GB only where it is on.
    assert shown["dev"]["capacity"] == shown["devpitr"]["capacity"]


def test_pricing_covers_every_resource_the_real_stacks_create(synthesized: Path) -> None:
    """A new resource type in a stack needs a row in statekit/compare/pricing.csv (0 if free)."""
    workload = load_workload(find_workload("busy-api"))
    missing = []
    for env in sorted(path.stem for path in (synthesized / "environments").glob("*.toml")):
        report = build_report(synthesized, env, workload, synth=False)
        assert set(report.stacks) == set(CLOUDS_WITH_STACKS), report.notes
        missing += [
            f"{env}/{u.cloud}: {u.what}: {u.reason}"
            for c in report.costs.values()
            for u in c.unpriced
        ]
    assert missing == []


def test_point_in_time_recovery_is_priced_only_where_it_is_on(synthesized: Path) -> None:
    workload = load_workload(find_workload("busy-api"))
    dev = build_report(synthesized, "dev", workload, synth=False).costs["aws"]
    assert not [line for line in dev.lines if "point-in-time" in line.unit]
    cost = build_report(synthesized, "devpitr", workload, synth=False).costs["aws"]
    pitr_lines = [line for line in cost.lines if "point-in-time" in line.unit]
    assert pitr_lines and pitr_lines[0].usage_usd == pytest.approx(200 * pitr_lines[0].price_usd)


def test_compare_synthesizes_the_stacks_when_cdktf_out_lacks_them(synthesized: Path) -> None:
    # A copy of the synthesized output without the AWS dev stack: only that one is synthesized.
    fresh = synthesized / "fresh-cdktf.out"
    shutil.copytree(synthesized / "cdktf.out", fresh)
    shutil.rmtree(fresh / "stacks" / "shop-aws-dev")
    report = build_report(
        synthesized, "dev", load_workload(find_workload("small-web-app")), outdir=fresh
    )
    assert set(report.stacks) == set(CLOUDS_WITH_STACKS), report.notes["resources"]
    assert (fresh / "stacks" / "shop-aws-dev" / "cdk.tf.json").exists()


def test_every_cloud_shows_the_settings_that_matter_for_prod(synthesized: Path) -> None:
    report = build_report(
        synthesized, "prod", load_workload(find_workload("busy-api")), synth=False
    )
    for cloud in CLOUDS_WITH_STACKS:
        database = report.components["database"][cloud].settings
        aspects = {s.aspect for s in database}
        assert {"encryption", "backup", "network"} <= aspects, (cloud, aspects)
        queue = report.components["queue"][cloud].settings
        dead_letters = [s.value for s in queue if s.aspect == "dead-letter"]
        assert any(value.startswith("to ") for value in dead_letters), (cloud, dead_letters)
        # prod sets customer_managed_key: the first encryption setting names a key resource.
        encryption = [s.value for s in database if s.aspect == "encryption"]
        assert "key" in encryption[0] and "-managed" not in encryption[0], (cloud, encryption)

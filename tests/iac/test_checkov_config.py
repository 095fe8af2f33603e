"""``.checkov.yaml``: a user's own checkov run on a production stack reports 0 failed.

The run is the README's, from the repository root with no flags of the suite's
(``-d <stack folder>`` only, plus JSON output to read the verdict), so the skips it
honours are the ones in the repository's configuration file, each with its reason.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.iac.checkov_config import production_skips, render
from tests.iac.conftest import APP, ROOT, Synthesized

CHECKOV = ROOT / ".tools" / "checkov-venv" / "bin" / "checkov"
CONFIG = ROOT / ".checkov.yaml"


def test_config_file_is_the_rendered_production_skips() -> None:
    assert CONFIG.read_text() == render(), (
        ".checkov.yaml is stale: python -m tests.iac.checkov_config > .checkov.yaml"
    )
    text = CONFIG.read_text()
    for skips in production_skips().values():
        for check_id, reason in skips.items():
            # Each skip carries its reason on the line before it.
            assert f"  # {' '.join(reason.split())}\n  - {check_id}\n" in text


@pytest.mark.slow
@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_users_checkov_run_on_prod_reports_zero_failed(
    cloud: str, synthesized: Synthesized
) -> None:
    if not CHECKOV.exists():
        pytest.skip(f"checkov not installed at {CHECKOV}: run scripts/install_checkov.sh")
    stack_dir: Path = synthesized.stack_dir(f"{APP}-{cloud}-prod")
    result = subprocess.run(
        [str(CHECKOV), "-d", str(stack_dir), "--output", "json", "--quiet", "--compact"],
        cwd=ROOT,  # where the README runs it: checkov finds .checkov.yaml here
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{check['check_id']} {check['resource']}"
        for entry in reports
        for check in entry.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(entry.get("summary", {}).get("passed", 0) for entry in reports)
    print(f"{APP}-{cloud}-prod: checkov passed {passed}, failed {len(failed)}")
    assert failed == []
    assert passed > 0

"""The archived cdktf CLI (0.21.0, pinned in package-lock.json) on the same cdktf.json.

Users who still run ``cdktf`` instead of ``cdktn`` keep working: it lists the
stacks and synthesizes exactly what ``python main.py`` writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.iac.conftest import APP, ROOT

CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"
ONE_STACK = {"STATEKIT_CLOUDS": "aws", "STATEKIT_ENVS": "dev"}


def _run(command: list[str], outdir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **ONE_STACK,
        "CHECKPOINT_DISABLE": "1",  # no version check against HashiCorp's servers
        "CDKTF_OUTDIR": str(outdir),
        # cdktf.json's app is ".venv/bin/python main.py", run from the project folder.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result


def test_cdktf_cli_lists_and_synthesizes_what_main_py_writes(tmp_path: Path) -> None:
    assert CDKTF.exists(), f"{CDKTF} is missing: make node installs it from package-lock.json"
    listed = _run([str(CDKTF), "list"], tmp_path / "list.out")
    assert f"{APP}-aws-dev" in listed.stdout, listed.stdout

    _run([str(CDKTF), "synth", "--output", str(tmp_path / "cli.out")], tmp_path / "cli.out")
    _run([sys.executable, "main.py"], tmp_path / "main.out")
    stack = Path("stacks") / f"{APP}-aws-dev" / "cdk.tf.json"
    by_cli = json.loads((tmp_path / "cli.out" / stack).read_text())
    by_main = json.loads((tmp_path / "main.out" / stack).read_text())
    assert by_cli == by_main
    assert by_cli["resource"]["aws_dynamodb_table"]

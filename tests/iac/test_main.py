"""``python main.py`` end to end: overrides, stack folders, and lazy provider loading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.iac.conftest import APP, ROOT

PROBE = (
    "import sys, main; code = main.main(); "
    "print(sorted(m for m in sys.modules if m.startswith('cdktn_provider_') and '.' not in m)); "
    "sys.exit(code)"
)


def test_one_cloud_one_env_synthesizes_one_stack_with_only_its_provider(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    env = {
        **os.environ,
        "STATEKIT_CLOUDS": "aws",
        "STATEKIT_ENVS": "dev",
        "CDKTF_OUTDIR": str(outdir),
    }
    env.pop("JSII_RUNTIME_PACKAGE_CACHE_ROOT", None)  # main.py sets the project-local one
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "['cdktn_provider_aws']"
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == [f"{APP}-aws-dev"]
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert list(manifest["stacks"]) == [f"{APP}-aws-dev"]
    assert (ROOT / ".jsii-cache").is_dir()


def test_a_weakened_production_stack_stops_synthesis_with_status_3(tmp_path: Path) -> None:
    envs = tmp_path / "environments"
    envs.mkdir()
    prod = (ROOT / "environments" / "prod.toml").read_text()
    (envs / "prod.toml").write_text(
        prod.replace("deletion_protection = true", "deletion_protection = false")
    )
    env = {
        **os.environ,
        "STATEKIT_CLOUDS": "aws",
        "STATEKIT_ENV_DIR": str(envs),
        "CDKTF_OUTDIR": str(tmp_path / "out"),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 3, result.stderr[-3000:]
    assert f"error: policy check failed for production stack {APP}-aws-prod:" in result.stderr
    assert "deletion_protection: deletion_protection_enabled is true" in result.stderr
    assert not (tmp_path / "out" / "stacks" / f"{APP}-aws-prod" / "cdk.tf.json").exists()


def test_list_names_the_stacks_of_the_app_without_synthesizing(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "STATEKIT_ENVS": "prod",
        "STATEKIT_APP": "booking.app:APP",
        "PYTHONPATH": str(ROOT / "tests" / "apps"),
        "CDKTF_OUTDIR": str(tmp_path / "out"),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["booking-aws-prod", "booking-azure-prod", "booking-gcp-prod"]
    assert not (tmp_path / "out").exists()

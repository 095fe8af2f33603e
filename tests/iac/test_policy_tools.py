"""External policy and schema tools on the synthesized stacks: checkov, asl-validator, terraform.

Each tool is optional on a developer machine: the test skips with the reason and the
install command when it is missing (``make test`` installs checkov first).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from modules.common.plan import plan_stacks
from tests.iac.checkov_skips import skips_for
from tests.iac.conftest import APP, ROOT, Synthesized

CHECKOV = ROOT / ".tools" / "checkov-venv" / "bin" / "checkov"
ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path("/usr/share/terraform/plugins"),
    Path.home() / ".terraform.d" / "plugins",
)


def json_documents(text: str) -> list[dict[str, Any]]:
    """checkov prints one JSON report per ``-d`` folder, one after the other."""
    decoder, index = json.JSONDecoder(), 0
    documents: list[dict[str, Any]] = []
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        document, index = decoder.raw_decode(text, index)
        documents.extend(document if isinstance(document, list) else [document])
    return documents


def run_checkov(stack_dirs: list[Path], skips: dict[str, str]) -> dict[str, list[str]]:
    """Failed checks per stack folder name, with ``--skip-check`` for the environment's skips."""
    command = [
        str(CHECKOV),
        "--framework",
        "terraform_json",
        "--skip-download",
        "--quiet",
        "--output",
        "json",
        "--soft-fail",
    ]
    for folder in stack_dirs:
        command += ["-d", str(folder)]
    if skips:
        command += ["--skip-check", ",".join(sorted(skips))]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""},
        # Not the repository root: its .checkov.yaml would skip checks this run must see.
        cwd=stack_dirs[0].parent,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    reports = json_documents(result.stdout)
    failed: dict[str, list[str]] = {folder.name: [] for folder in stack_dirs}
    for report in reports:
        if report.get("summary", {}).get("parsing_errors"):
            pytest.fail(f"checkov could not parse a stack: {report['summary']}")
        for check in report.get("results", {}).get("failed_checks", []):
            stack = next((f.name for f in stack_dirs if f.name in check["file_abs_path"]), "?")
            failed.setdefault(stack, []).append(
                f"{check['check_id']} {check['resource']}: {check['check_name']}"
            )
    return failed


def planned_aws_stack_names() -> list[str]:
    """AWS here; the Azure and GCP stacks run checkov in test_azure_policy.py / test_gcp_policy.py
    with their own skip lists (checkov_skips_azure_gcp.py)."""
    return [s.stack_name for s in plan_stacks(app_name=APP) if s.cloud == "aws"]


@pytest.fixture(scope="session")
def checkov_failures(synthesized: Synthesized) -> dict[str, list[str]]:
    """One checkov run per environment (its ``--skip-check`` list), all its AWS stacks at once."""
    if not CHECKOV.exists():
        pytest.skip(f"checkov not installed at {CHECKOV}: run scripts/install_checkov.sh")
    failures: dict[str, list[str]] = {}
    for env in sorted({s.env for s in synthesized.settings.values()}):
        names = [n for n, s in synthesized.settings.items() if s.env == env and s.cloud == "aws"]
        failures.update(run_checkov([synthesized.stack_dir(n) for n in names], skips_for(env)))
    return failures


@pytest.mark.parametrize("stack", planned_aws_stack_names())
def test_checkov_passes_with_only_the_listed_skips(
    synthesized: Synthesized, checkov_failures: dict[str, list[str]], stack: str
) -> None:
    env = synthesized.settings[stack].env
    skips = skips_for(env)
    assert all(reason.strip() for reason in skips.values()), "every skip needs its one-line reason"
    print(f"checkov {stack}: {len(skips)} checks skipped for {env}")
    assert checkov_failures[stack] == [], "\n".join(checkov_failures[stack])


def test_state_machine_definition_is_valid_asl(synthesized: Synthesized, tmp_path: Path) -> None:
    if not ASL_VALIDATOR.exists():
        pytest.skip(f"asl-validator not installed at {ASL_VALIDATOR}: run npm ci (package.json)")
    for name in synthesized.names("aws"):
        machines = synthesized.resources(name, "aws_sfn_state_machine")
        for machine in machines.values():
            # Terraform references become a well-formed Lambda ARN for the ARN check.
            definition = re.sub(
                r"\$\{[^}]+\}",
                "arn:aws:lambda:eu-west-1:123456789012:function:activity",
                machine["definition"],
            )
            path = tmp_path / f"{name}.asl.json"
            path.write_text(definition)
            result = subprocess.run(
                [str(ASL_VALIDATOR), "--json-path", str(path)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"


def find_aws_mirror() -> Path | None:
    for candidate in MIRROR_CANDIDATES:
        if (candidate / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return candidate
    return None


def test_terraform_validate_accepts_the_aws_stacks(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    terraform = shutil.which("terraform")
    mirror = find_aws_mirror()
    if terraform is None or mirror is None:
        reason = "terraform binary" if terraform is None else "hashicorp/aws provider mirror"
        pytest.skip(
            f"no {reason} on this machine (see ../shared/EMULATORS.md): terraform validate skipped"
        )
    config = tmp_path / "terraform.rc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
    )
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
    }
    work = tmp_path / "stack"
    work.mkdir()
    for index, name in enumerate(synthesized.names("aws")):
        shutil.copyfile(synthesized.stack_dir(name) / "cdk.tf.json", work / "cdk.tf.json")
        if index == 0:  # one init serves every AWS stack: same provider, no backend
            init = subprocess.run(
                [terraform, "init", "-backend=false", "-input=false", "-no-color"],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert init.returncode == 0, init.stdout + init.stderr
        result = subprocess.run(
            [terraform, "validate", "-no-color"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"


def test_every_prod_skip_is_still_needed(synthesized: Synthesized) -> None:
    """Without skips, prod fails exactly the skipped checks: the list holds nothing stale."""
    if not CHECKOV.exists():
        pytest.skip(f"checkov not installed at {CHECKOV}: run scripts/install_checkov.sh")
    failed = run_checkov([synthesized.stack_dir(f"{APP}-aws-prod")], {})
    failing_ids = {line.split()[0] for line in failed[f"{APP}-aws-prod"]}
    assert failing_ids == set(skips_for("prod"))

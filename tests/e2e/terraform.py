"""The machine's terraform binary and hashicorp/aws provider mirror, run offline.

Neither is a project dependency: a fresh machine has none, and the end-to-end
test is skipped there with the reason printed. Where they exist, terraform
installs the provider only from the file-system mirror (a CLI configuration
file named by ``TF_CLI_CONFIG_FILE``), never from the registry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.ministack import hermetic_env

AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
# Where images put a provider mirror (the first holding hashicorp/aws wins);
# STATEKIT_TF_PROVIDER_MIRROR names another one.
MIRROR_GLOBS = (
    "/opt/*/",
    "/opt/*/*/",
    "/usr/share/terraform/plugins/",
    "/usr/local/share/terraform/plugins/",
    str(Path.home() / ".terraform.d/plugins/"),
    str(Path.home() / ".local/share/terraform/plugins/"),
)


def find_terraform() -> str | None:
    return shutil.which("terraform")


def find_aws_mirror() -> Path | None:
    """The mirror root holding ``registry.terraform.io/hashicorp/aws/<version>/``."""
    explicit = os.environ.get("STATEKIT_TF_PROVIDER_MIRROR")
    roots = [Path(explicit)] if explicit else []
    for pattern in MIRROR_GLOBS:
        anchor = Path(pattern.split("*")[0])
        rest = pattern[len(str(anchor)) :].strip("/")
        if anchor.is_dir():
            roots += sorted(anchor.glob(rest)) if rest else [anchor]
    for root in roots:
        if any((root / AWS_PROVIDER).glob("*/*_*")):
            return root
    return None


def write_cli_config(mirror: Path, path: Path) -> Path:
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        f'    include = ["{AWS_PROVIDER}"]\n  }}\n}}\n'
    )
    return path


class TerraformFailed(RuntimeError):
    """A terraform command failed; the message carries its output's tail."""


@dataclass
class Terraform:
    binary: str
    directory: Path
    cli_config: Path
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 600) -> str:
        # Hermetic: an AWS_* variable the suite set earlier must not steer the provider.
        env = hermetic_env(
            TF_CLI_CONFIG_FILE=str(self.cli_config),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
        )
        started = time.perf_counter()
        done = subprocess.run(
            [self.binary, *args],
            cwd=self.directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.timings[args[0]] = time.perf_counter() - started
        if done.returncode != 0:
            tail = (done.stdout + done.stderr)[-6000:]
            raise TerraformFailed(f"terraform {' '.join(args)} in {self.directory}:\n{tail}")
        return done.stdout

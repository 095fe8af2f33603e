"""The Lambda code package: the App's code packages, ``statekit`` and the libraries the stack needs.

The Lambda Python runtime carries boto3 and nothing else statekit may need, so the
package holds the pins of the stack's extras (``function_extras``: the cache's
client, psycopg for PostgreSQL, OpenTelemetry when tracing is on) except ``aws``,
installed by pip for the function's platform (``--platform manylinux..._<arch>
--python-version 3.12 --only-binary=:all:``): psycopg's binary wheel must match the
function's architecture and Python, not this machine's. Installed once per set of
pins, runtime and architecture under ``<build>/lambda-dependencies/<hash>/`` (pip
runs only when that folder is missing), and compiled to bytecode with the code
(modules/common/package.py). Any other library a handler needs goes into a layer.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

from ..common.bytecode import compile_package, runtime_version
from ..common.package import (
    build_root,
    function_extras,
    package_folder,
    pinned_requirements,
    publish,
    staged_code,
)
from ..common.settings import StackSettings

# The extra the runtime already provides (boto3, botocore).
RUNTIME_EXTRA = "aws"
# Bump when the way dependencies are installed changes, so old folders are not reused.
DEPENDENCY_FORMAT = b"1"
PIP_TIMEOUT_S = 900
# Lambda's Python 3.12 runtime is Amazon Linux 2023 (glibc 2.34): these wheels run there.
MANYLINUX = ("manylinux_2_28", "manylinux2014")
ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}


class DependencyInstallFailed(RuntimeError):
    """pip could not install the function package's libraries for the Lambda platform."""


def lambda_requirements(settings: StackSettings) -> list[str]:
    """The pins the stack's functions need beyond what the Lambda runtime provides."""
    extras = tuple(extra for extra in function_extras(settings) if extra != RUNTIME_EXTRA)
    return pinned_requirements(extras) if extras else []


def installed_dependencies(requirements: list[str], runtime: str, architecture: str) -> Path:
    """A folder with ``requirements`` installed for Lambda's ``runtime`` and ``architecture``."""
    version = runtime_version(runtime)
    machine = ARCHITECTURES[architecture]
    digest = hashlib.sha256(DEPENDENCY_FORMAT + b"\0" + f"{version}\0{machine}".encode())
    for requirement in requirements:
        digest.update(requirement.encode() + b"\0")
    root = build_root() / "lambda-dependencies"
    target = root / digest.hexdigest()[:20]
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
    platforms = [option for tag in MANYLINUX for option in ("--platform", f"{tag}_{machine}")]
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--target", str(scratch), "--implementation", "cp",
        "--python-version", version, "--only-binary=:all:", *platforms, *requirements,
    ]  # fmt: skip
    if requirements:
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(scratch, ignore_errors=True)
            raise DependencyInstallFailed(
                f"pip did not install {', '.join(requirements)} for Lambda {runtime}/"
                f"{architecture} within {PIP_TIMEOUT_S} s (is a package index reachable?)"
            ) from None
        if done.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            raise DependencyInstallFailed(
                f"pip could not install {', '.join(requirements)} for Lambda {runtime}/"
                f"{architecture}: {(done.stderr or done.stdout).strip()[-2000:]}"
            )
    shutil.rmtree(scratch / "bin", ignore_errors=True)  # console scripts: never run there
    compile_package(scratch, runtime)
    return publish(scratch, target)


def stage_package(settings: StackSettings, packages: list[str]) -> Path:
    """The package folder: ``packages`` with their bytecode, and the installed dependencies."""
    runtime = settings.functions.runtime
    code = staged_code([package_folder(package) for package in packages], runtime, "lambda-code")
    dependencies = installed_dependencies(
        lambda_requirements(settings), runtime, settings.functions.architecture
    )
    target = build_root() / "lambda-package" / f"{code.name}-{dependencies.name}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
    for source in (dependencies, code):  # the code last: statekit's own files win
        shutil.copytree(source, scratch, dirs_exist_ok=True, copy_function=_link_or_copy)
    return publish(scratch, target)


def _link_or_copy(source: str, destination: str) -> None:
    # Hard links: the staged folders are never written to again, and copying the
    # dependencies (several MB) for every code change would be the slow part.
    try:
        Path(destination).unlink(missing_ok=True)
        Path(destination).hardlink_to(source)
    except OSError:
        shutil.copy2(source, destination)


class CodePackage(Construct):
    def __init__(
        self, scope: Construct, id_: str, settings: StackSettings, packages: list[str]
    ) -> None:
        super().__init__(scope, id_)
        self.asset = TerraformAsset(
            self, "asset", path=str(stage_package(settings, packages)), type=AssetType.ARCHIVE
        )
        self.path = self.asset.path
        self.hash = self.asset.asset_hash

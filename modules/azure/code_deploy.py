"""Deploy the function app's code after ``terraform apply``: a package that carries its
Linux dependencies, published with One Deploy, then a restart.

Why not from Terraform: the Flex Consumption plan does not support zip deploy ("The
Flex Consumption plan doesn't support zip deployment", Azure Functions zip deployment
docs); it publishes through One Deploy into the app's deployment container, which
azurerm's ``zip_deploy_file`` does not do. And a package holding only sources runs no
code: the host does not install ``requirements.txt`` unless the deployment asks for a
remote build. So the package is built here with its dependencies installed for the
platform (Linux x86-64, the runtime's CPython, binary wheels only) in
``.python_packages/lib/site-packages``, where the Python worker looks for them, and
published without a remote build:

    az functionapp deployment source config-zip --build-remote false ...

(``az`` uses One Deploy for a Flex Consumption app.) The restart afterwards makes the
platform resolve any Key Vault reference again, now that the app's identity has been
granted its secret (docs/iac-azure-gcp.md, "First apply").

    python -m modules.azure.code_deploy ENV --resource-group RG --name APP [--build-only]

``RG`` and ``APP`` are the stack's outputs ``resource_group_name`` and
``function_app_name``. tests/iac/test_azure_function_startup.py builds the same package
and imports its entry module on a clean interpreter with nothing else on its path.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..common.app import AppSource
from ..common.package import build_root
from ..common.plan import plan_stacks
from ..common.settings import StackSettings
from .package import stage

SITE_PACKAGES = Path(".python_packages") / "lib" / "site-packages"
# Flex Consumption runs Linux x86-64; manylinux2014 wheels run there (glibc 2.17+).
PLATFORM = "manylinux2014_x86_64"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed entry times: the same files give the same zip
PIP_TIMEOUT_SECONDS = 900


class CodeDeployError(RuntimeError):
    """Building or publishing the function app's package failed; the message says which step."""


def vendored_dependencies(requirements: Path, runtime: str) -> Path:
    """``requirements`` installed for the platform, in a folder reused while they are the same."""
    version = runtime.removeprefix("python")
    digest = hashlib.sha256(
        f"{PLATFORM}\0{version}\0".encode() + requirements.read_bytes()
    ).hexdigest()[:20]
    target = build_root() / "azure-dependencies" / digest
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # bytecode for this interpreter would be useless to the runtime
        "--only-binary=:all:",
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--target",
        str(scratch),
        "--requirement",
        str(requirements),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise CodeDeployError(
            f"installing {requirements} for {PLATFORM} / Python {version} failed:\n"
            f"{result.stderr[-3000:]}"
        )
    try:
        scratch.rename(target)
    except OSError:  # another build finished first with the same content
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def build_package(settings: StackSettings, app: AppSource, target: Path | None = None) -> Path:
    """The package folder: the staged code of ``app`` (package.py) plus its installed
    dependencies."""
    folder = target or build_root() / "azure-deploy" / settings.stack_name
    functions = app.functions(settings, workflows_on=settings.components.orchestrator)
    stage(settings, folder, app, functions)
    dependencies = vendored_dependencies(folder / "requirements.txt", settings.functions.runtime)
    shutil.copytree(dependencies, folder / SITE_PACKAGES)
    return folder


def zip_package(folder: Path, archive: Path) -> Path:
    """A deterministic zip of ``folder`` (sorted entries, fixed times)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(folder)), date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())
    return archive


def publish_commands(archive: Path, resource_group: str, app: str) -> list[list[str]]:
    """One Deploy without a remote build (the package is complete), then a restart."""
    return [
        [
            "az",
            "functionapp",
            "deployment",
            "source",
            "config-zip",
            "--resource-group",
            resource_group,
            "--name",
            app,
            "--src",
            str(archive),
            "--build-remote",
            "false",
        ],
        ["az", "functionapp", "restart", "--resource-group", resource_group, "--name", app],
    ]


def settings_for(env: str) -> tuple[StackSettings, AppSource]:
    """The Azure stack's settings of ``environments/<env>.toml`` and its App (``app`` there,
    or ``STATEKIT_APP``), validated as for synthesis."""
    stacks = plan_stacks(envs=[env], clouds=["azure"])
    if not stacks:
        raise CodeDeployError(f"environments/{env}.toml does not enable azure (its 'clouds')")
    app = AppSource.resolve(stacks[0].app_ref)
    return dataclasses.replace(stacks[0], app_name=app.name), app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modules.azure.code_deploy")
    parser.add_argument("env", help="the environment (environments/<env>.toml)")
    parser.add_argument("--resource-group", help="the stack's resource_group_name output")
    parser.add_argument("--name", help="the stack's function_app_name output")
    parser.add_argument("--build-only", action="store_true", help="build the zip, publish nothing")
    args = parser.parse_args(argv)
    settings, app = settings_for(args.env)
    archive = zip_package(
        build_package(settings, app), build_root() / "azure-deploy" / f"{settings.stack_name}.zip"
    )
    print(f"package: {archive}")
    if args.build_only:
        return 0
    if not (args.resource_group and args.name):
        parser.error("--resource-group and --name are required to publish (or --build-only)")
    if shutil.which("az") is None:
        raise CodeDeployError("the Azure CLI (az) is not on PATH: install it, or use --build-only")
    for command in publish_commands(archive, args.resource_group, args.name):
        print("+", " ".join(command))
        subprocess.run(command, check=True, env=dict(os.environ))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

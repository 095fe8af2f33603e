"""The library path: a separate cdktf project installs the kit from a wheel and synthesizes its App.

The wheel is built from a copy of the sources (pip's isolated build, as a user's
``pip install`` would; the build backend comes from the package index), installed into a fresh virtual
environment (the jsii and provider packages come from this environment through a
``.pth`` line, so nothing is downloaded), and a project in another temporary folder
synthesizes the tickets App's AWS stack with ``statekit_iac``: no monkeypatching,
no ``modules`` or ``handlers`` package installed, and every file written inside the
project, none beside the installed code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from tests.iac.conftest import ROOT

SOURCES = ("pyproject.toml", "setup.py", "README.md", "statekit", "modules")
SYNTH = """
import json, sys
import statekit, statekit_iac
from cdktn import App
from statekit_iac import AppSource, build_stack, load_environment
from statekit_iac.common.package import pinned_requirements

environment = load_environment("environments/dev.toml")
source = AppSource.load(environment.app)
app = App(context={"targetVersions": {"terraform": ">=1.10.0"}})
build_stack(app, environment.for_cloud("aws"), source)
app.synth()
print(json.dumps({
    "statekit": statekit.__file__,
    "statekit_iac": statekit_iac.__file__,
    "pins": pinned_requirements(("azure",)),
    "outdir": app.outdir,
}))
"""


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300):
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result


def build_wheel(tmp_path: Path) -> Path:
    # Not "src": setuptools would read a folder of that name as a src-layout root.
    source = tmp_path / "statekit-source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, source / name)
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)], tmp_path)
    (wheel,) = (tmp_path / "dist").glob("statekit-*.whl")
    return wheel


def test_a_separate_project_installs_the_wheel_and_synthesizes_its_app(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        top_level = {name.split("/")[0] for name in archive.namelist()}
    assert {"statekit", "statekit_iac"} <= top_level
    assert not top_level & {"modules", "handlers", "tests"}, top_level

    venv = tmp_path / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).stdout.strip())
    # cdktn, jsii and the providers from this environment (after the venv's own packages).
    (site / "zz_shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)], tmp_path)
    for generic in ("modules", "handlers"):
        assert not (site / generic).exists()

    project = tmp_path / "project"
    (project / "environments").mkdir(parents=True)
    dev = (ROOT / "environments" / "dev.toml").read_text()
    (project / "environments" / "dev.toml").write_text(dev.replace("handlers.app:APP", "tickets.app:APP"))
    shutil.copytree(ROOT / "tests" / "apps" / "tickets", project / "tickets", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "synth.py").write_text(SYNTH)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "STATEKIT_APP", "STATEKIT_BUILD_DIR", "CDKTF_OUTDIR")
    }
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    env["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] = str(project / ".jsii-cache")
    result = _run([str(python), "synth.py"], project, env, timeout=900)
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert report["statekit"].startswith(str(site)), report
    assert report["statekit_iac"].startswith(str(site)), report
    assert any(pin.startswith("azure-functions==") for pin in report["pins"])
    stack = project / "cdktf.out" / "stacks" / "tickets-aws-dev"
    config = json.loads((stack / "cdk.tf.json").read_text())
    assert config["//"]["statekit"]["app"] == "tickets"
    names = sorted(f["function_name"] for f in config["resource"]["aws_lambda_function"].values())
    assert names == ["tickets-dev-activities", "tickets-dev-mailer", "tickets-dev-sweep", "tickets-dev-web"]
    # Staged packages in the project's build/, nothing next to the installed code.
    assert (project / "build" / "lambda-package").is_dir()
    assert not (site / "build").exists()
    assert not (site.parent / "build").exists()
    (function,) = [
        f for f in config["resource"]["aws_lambda_function"].values() if f["function_name"].endswith("-web")
    ]
    with zipfile.ZipFile(stack / function["filename"]) as package:
        shipped = {name.split("/")[0] for name in package.namelist()}
    # The libraries the stack needs, installed for Lambda: OpenTelemetry (tracing is on);
    # no Redis client, since dev switches the cache off.
    assert {"tickets", "statekit", "opentelemetry"} <= shipped
    assert "redis" not in shipped
    assert "handlers" not in shipped

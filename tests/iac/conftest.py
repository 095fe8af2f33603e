"""Synthesize every stack of the example App once per session, in this process, into a
temporary cdktf.out; ``synthesize_app`` does the same for another App (tests/apps/).

jsii starts its node process on the first cdktn import and keeps the environment it
started with, so the variables are set here, before any test module imports cdktn.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(ROOT / ".jsii-cache"))

from modules.common.app import AppSource  # noqa: E402  (after the jsii environment)
from modules.common.plan import plan_stacks  # noqa: E402
from modules.common.settings import StackSettings  # noqa: E402

TARGET_VERSIONS = json.loads((ROOT / "cdktf.json").read_text())["targetVersions"]
APPS_DIR = ROOT / "tests" / "apps"  # the test Apps' packages (booking, tickets)
if str(APPS_DIR) not in sys.path:
    sys.path.insert(0, str(APPS_DIR))


def example_app() -> AppSource:
    """The App the environment files name (the example in handlers/)."""
    return AppSource.resolve(plan_stacks(envs=["dev"])[0].app_ref)


EXAMPLE = example_app()
APP = EXAMPLE.name  # the example's stacks are f"{APP}-<cloud>-<env>"


def cloud_implemented(cloud: str) -> bool:
    """Azure and GCP are built by another part of the project; test what exists."""
    return (ROOT / "modules" / cloud / "stack.py").is_file()


@dataclass
class Synthesized:
    outdir: Path
    settings: dict[str, StackSettings]
    missing_clouds: set[str] = field(default_factory=set)
    _cache: dict[str, str] = field(default_factory=dict)

    def stack_dir(self, name: str) -> Path:
        return self.outdir / "stacks" / name

    def text(self, name: str) -> str:
        if name not in self._cache:
            self._cache[name] = (self.stack_dir(name) / "cdk.tf.json").read_text()
        return self._cache[name]

    def config(self, name: str) -> dict[str, Any]:
        return dict(json.loads(self.text(name)))

    def resources(self, name: str, resource_type: str) -> dict[str, dict[str, Any]]:
        return dict(self.config(name).get("resource", {}).get(resource_type, {}))

    def names(self, cloud: str | None = None) -> list[str]:
        return [n for n, s in self.settings.items() if cloud is None or s.cloud == cloud]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """All environments x the clouds each enables (that exist in modules/), one app.synth()."""
    from cdktn import App

    from modules.common.stack import build_stack

    outdir = tmp_path_factory.mktemp("cdktf.out")
    plan = plan_stacks()
    missing: set[str] = {s.cloud for s in plan if not cloud_implemented(s.cloud)}
    plan = [s for s in plan if s.cloud not in missing]
    app = App(outdir=str(outdir), context={"targetVersions": TARGET_VERSIONS})
    stacks = [build_stack(app, settings, EXAMPLE) for settings in plan]
    app.synth()
    return Synthesized(outdir, {s.settings.stack_name: s.settings for s in stacks}, missing)


def synthesize_app(
    outdir: Path, source: AppSource, envs: list[str], clouds: list[str] | None = None
) -> Synthesized:
    """Every stack of ``source`` for ``envs`` (x the clouds each enables), one app.synth()."""
    from cdktn import App

    from modules.common.stack import build_stack

    plan = [s for s in plan_stacks(envs=envs, clouds=clouds) if cloud_implemented(s.cloud)]
    app = App(outdir=str(outdir), context={"targetVersions": TARGET_VERSIONS})
    stacks = [build_stack(app, settings, source) for settings in plan]
    app.synth()
    return Synthesized(outdir, {s.settings.stack_name: s.settings for s in stacks})


@pytest.fixture(scope="session")
def synth_one() -> Callable[..., str]:
    """``Testing.synth`` of one extra stack (its own app), for variations of the settings;
    the example App unless ``source`` is another."""
    from cdktn import Testing

    from modules.common.stack import build_stack

    def synth(settings: StackSettings, source: AppSource | None = None) -> str:
        app = Testing.app(context={"targetVersions": TARGET_VERSIONS})
        return str(Testing.synth(build_stack(app, settings, source or EXAMPLE)))

    return synth

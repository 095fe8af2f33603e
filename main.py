"""Synthesize an App's stacks: one ``<app>-<cloud>-<env>`` per enabled cloud and environment.

``python main.py`` (or ``cdktn synth`` / ``cdktf synth``, which run it via cdktf.json)
writes ``cdktf.out/stacks/<stack>/cdk.tf.json`` for every environment in
``environments/`` and every cloud that environment enables. The App is the
environment file's ``app = "pkg.module:APP"`` (default ``handlers.app:APP``),
overridden by ``STATEKIT_APP``; a bad App is an error before any construct (status 2).

``python main.py --list`` prints the names of the stacks it would synthesize, one a line,
without starting jsii (the Makefile's deploy uses it).

Overrides: ``STATEKIT_ENVS=prod`` (comma-separated environment names),
``STATEKIT_CLOUDS=aws,gcp`` (only these clouds, where the environment enables them),
``STATEKIT_ENV_DIR`` (another folder of environment files) and ``CDKTF_OUTDIR``.
Every environment file is validated before any construct is made (exit status 2 on a
bad file); a production stack that fails the policy aspect stops synthesis (status 3).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
POLICY_FAILURE = "policy check failed for production stack"  # modules/common/aspects.py


def _prepare_jsii_environment() -> None:
    """Set before cdktn is imported: the jsii node process keeps the env it started with."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(ROOT / ".jsii-cache"))


def _split(variable: str) -> list[str] | None:
    value = os.environ.get(variable, "").strip()
    return [part.strip() for part in value.split(",") if part.strip()] or None


def _target_versions() -> dict[str, str]:
    """cdktf.json's ``targetVersions`` (the CLI passes it as context; plain ``python main.py`` must too)."""
    config = json.loads((ROOT / "cdktf.json").read_text())
    return dict(config["targetVersions"])


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    _prepare_jsii_environment()
    sys.path.insert(0, str(ROOT))
    from modules.common.app import AppSource
    from modules.common.environment import EnvironmentFileError
    from modules.common.plan import plan_stacks
    from statekit.app import AppError

    try:
        plan = plan_stacks(
            envs=_split("STATEKIT_ENVS"),
            clouds=_split("STATEKIT_CLOUDS"),
            directory=os.environ.get("STATEKIT_ENV_DIR") or ROOT / "environments",
        )
    except EnvironmentFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not plan:
        print("error: no stack selected (check STATEKIT_ENVS / STATEKIT_CLOUDS)", file=sys.stderr)
        return 2
    apps: dict[str, AppSource] = {}
    try:
        for settings in plan:
            if settings.app_ref not in apps:
                apps[settings.app_ref] = AppSource.resolve(settings.app_ref)
    except AppError as error:
        if os.environ.get("STATEKIT_APP"):
            where = "STATEKIT_APP: "
        else:
            where = f"{settings.source}: field 'app': " if settings.app_ref else ""
        print(f"error: {where}{error}", file=sys.stderr)
        return 2
    if "--list" in arguments:
        for settings in plan:
            print(f"{apps[settings.app_ref].name}-{settings.cloud}-{settings.env}")
        return 0

    from cdktn import App

    from modules.common.stack import build_stack

    app = App(context={"targetVersions": _target_versions()})
    stacks_built = [build_stack(app, s, apps[s.app_ref]) for s in plan]
    try:
        app.synth()
    except RuntimeError as error:
        # The policy aspect's PolicyViolation reaches here wrapped by jsii, message intact.
        if POLICY_FAILURE not in str(error):
            raise
        message = str(error)[str(error).index(POLICY_FAILURE) :]
        print(f"error: {message}", file=sys.stderr)
        return 3
    stacks = Path(app.outdir) / "stacks"
    noun = "stack" if len(plan) == 1 else "stacks"
    names = ", ".join(stack.node.id for stack in stacks_built)
    print(f"synthesized {len(plan)} {noun} into {stacks}/: {names}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where the comparison's inputs live, and synthesizing the stacks when they are missing."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from statekit.compare.tfjson import (
    CLOUD_ORDER,
    Stack,
    load_stack,
    parse_stack_name,
    stack_cloud_env,
)


@dataclass
class StackSet:
    env: str
    stacks: dict[str, Stack] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def project_root(start: Path | None = None) -> Path:
    """The nearest folder (from ``start`` up) holding main.py or cdktf.json; else ``start``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "cdktf.json").exists() or (folder / "main.py").exists():
            return folder
    return here


def enabled_clouds(root: Path, env: str) -> list[str]:
    """The clouds ``environments/<env>.toml`` enables (all three if the file cannot be read)."""
    try:
        clouds = tomllib.loads((root / "environments" / f"{env}.toml").read_text()).get("clouds")
    except (OSError, tomllib.TOMLDecodeError):
        return list(CLOUD_ORDER)
    return (
        [c for c in CLOUD_ORDER if c in clouds] if isinstance(clouds, list) else list(CLOUD_ORDER)
    )


def synthesize(root: Path, env: str, outdir: Path, clouds: list[str]) -> str | None:
    """Run ``main.py`` for one environment's ``clouds``; returns an error note, or None on success."""
    main = root / "main.py"
    if not main.exists():
        return f"no main.py in {root}: cannot synthesize; run `make synth` in a statekit checkout"
    environment = {
        **os.environ,
        "STATEKIT_ENVS": env,
        "STATEKIT_CLOUDS": ",".join(clouds),
        "CDKTF_OUTDIR": str(outdir),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": os.environ.get(
            "JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(root / ".jsii-cache")
        ),
        "CHECKPOINT_DISABLE": "1",
    }
    print(
        f"synthesizing the {','.join(clouds)} stacks of {env} (python main.py, 5 to 15 s)...",
        file=sys.stderr,
    )
    try:
        done = subprocess.run(
            [sys.executable, str(main)],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"synthesis failed to run ({exc}); run `make synth` to see why"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return f"synthesis failed (exit {done.returncode}): {' / '.join(tail)}; run `make synth` to see why"
    return None


def load_stacks(
    root: Path,
    env: str,
    outdir: Path | None = None,
    synth: bool = True,
    app: str | None = None,
) -> StackSet:
    """The env's stacks from ``cdktf.out/stacks/<app>-<cloud>-<env>/cdk.tf.json``: the App's
    (``app``: its spec; by default as ``statekit compare`` picks it), with notes on any
    stack that is not the App's as it is now."""
    from statekit.compare.app_check import app_notes, choose_app

    outdir = outdir or root / "cdktf.out"
    found = StackSet(env=env)
    choice = choose_app(root, env, app)
    if choice.error:
        found.notes.append(choice.error)
    app_name = choice.app.name if choice.app is not None else None

    def stack_files() -> list[Path]:
        by_app: dict[str, dict[str, Path]] = {}
        for file in sorted((outdir / "stacks").glob(f"*-{env}/cdk.tf.json")):
            parsed = parse_stack_name(file.parent.name)
            if parsed is not None and parsed[2] == env:
                by_app.setdefault(parsed[0], {})[parsed[1]] = file
        if app_name in by_app:
            return sorted(by_app[app_name].values())
        if not by_app:
            return []
        # None of the App's: another app's stacks, named in a note rather than compared silently.
        other = sorted(by_app)[0]
        return sorted(by_app[other].values())

    files = stack_files()
    present = {(stack_cloud_env(file.parent.name) or ("", ""))[0] for file in files}
    wanted = enabled_clouds(root, env)
    # Only clouds whose stack code exists can be synthesized; the note below names the rest.
    missing = [
        c for c in wanted if c not in present and (root / "modules" / c / "stack.py").exists()
    ]
    if missing and synth and (root / "main.py").exists():
        error = synthesize(root, env, outdir, missing)
        if error:
            found.notes.append(error)
        files = stack_files()
    shown = {(parse_stack_name(f.parent.name) or ("",))[0] for f in files}
    if files and app_name is not None and app_name not in shown:
        found.notes.append(
            f"{outdir}/stacks has no {env} stacks of app {app_name!r}; these are "
            f"{', '.join(sorted(f.parent.name for f in files))}: run `make synth` "
            f"(or `STATEKIT_ENVS={env} python main.py`)"
        )
    if not files:
        found.notes.append(
            f"no synthesized stacks for environment {env!r} in {outdir}/stacks: run `make synth` "
            f"(or `STATEKIT_ENVS={env} python main.py`); resources and cost need them"
        )
        return found
    for file in files:
        try:
            stack = load_stack(file)
        except ValueError as exc:
            found.notes.append(str(exc))
            continue
        found.stacks[stack.cloud] = stack
    # Another App's stacks, or stacks older than the App's code or the environment file.
    found.notes.extend(app_notes(root, env, files, choice=choice))
    absent = [cloud for cloud in wanted if cloud not in found.stacks]
    if absent:
        found.notes.append(
            f"environments/{env}.toml enables {', '.join(absent)} but {outdir}/stacks has no stack "
            f"for it: run `make synth` (or `STATEKIT_ENVS={env} python main.py`)"
        )
    return found

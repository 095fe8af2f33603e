"""Whether the synthesized stacks are the App's, as it is now: never compared silently.

The IaC side records in each stack's ``cdk.tf.json``, under ``//`` -> ``statekit``
(a comment key Terraform ignores)::

    {"app": "<App.name>", "app_ref": "pkg.module:APP",
     "code_fingerprint": statekit.app.code_fingerprint(app),
     "environment_fingerprint": statekit.app.file_fingerprint(environments/<env>.toml), ...}

A ``statekit.json`` beside the file, or a Terraform output ``statekit_app``, with
the same keys (``spec`` for ``app_ref``) is read too. Each is read defensively: a stack without a record, or with a record of another App, or
of older code or an older environment file, gets a note saying so and what to
run; without fingerprints the files' modification times decide.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statekit.app import App, AppError, code_fingerprint, file_fingerprint, load_app
from statekit.app.declaration import APP_VARIABLE, DEFAULT_APP
from statekit.app.fingerprint import newest_code_mtime

RECORD_FILE = "statekit.json"
RECORD_OUTPUT = "statekit_app"


@dataclass(frozen=True)
class AppRecord:
    """What a synthesized stack says it was made from (None: not recorded)."""

    app: str | None
    spec: str | None
    code: str | None
    environment: str | None


def choose_app_spec(root: Path, env: str, cli_app: str | None = None) -> tuple[str, str]:
    """The App to check against and where that choice came from."""
    if cli_app:
        return cli_app, "--app"
    if os.environ.get(APP_VARIABLE):
        return os.environ[APP_VARIABLE], f"${APP_VARIABLE}"
    try:
        configured = tomllib.loads((root / "environments" / f"{env}.toml").read_text()).get("app")
    except (OSError, tomllib.TOMLDecodeError):
        configured = None
    if isinstance(configured, str) and configured:
        return configured, f"environments/{env}.toml"
    return DEFAULT_APP, "the default"


def load_project_app(root: Path, spec: str) -> App:
    """Load the App with the project's root importable (``statekit`` may run from anywhere)."""
    folder = str(root)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        return load_app(spec)
    finally:
        if added:
            sys.path.remove(folder)


def read_record(stack_file: Path) -> AppRecord | None:
    """The stack's record: ``//.statekit`` in it, else ``statekit.json`` beside it, else
    its ``statekit_app`` output."""
    raw: Any = None
    beside = stack_file.with_name(RECORD_FILE)
    try:
        document = json.loads(stack_file.read_text())
        comment = document.get("//") if isinstance(document, dict) else None
        raw = comment.get("statekit") if isinstance(comment, dict) else None
        if raw is None and beside.exists():
            raw = json.loads(beside.read_text())
        if raw is None and isinstance(document, dict):
            output = (document.get("output") or {}).get(RECORD_OUTPUT)
            raw = output.get("value") if isinstance(output, dict) else None
            if isinstance(raw, str):
                raw = json.loads(raw)
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(raw, dict):
        return None

    def text(*names: str) -> str | None:
        for name in names:
            value = raw.get(name)
            if isinstance(value, str) and value:
                return value
        return None

    return AppRecord(
        app=text("app", "name"),
        spec=text("app_ref", "spec", "app_spec"),
        code=text("code_fingerprint", "code"),
        environment=text("environment_fingerprint", "environment"),
    )


@dataclass(frozen=True)
class AppChoice:
    spec: str
    source: str  # where the spec came from, for the notes
    app: App | None
    error: str | None  # why the App could not be loaded


def choose_app(root: Path, env: str, cli_app: str | None = None) -> AppChoice:
    spec, source = choose_app_spec(root, env, cli_app)
    try:
        return AppChoice(spec, source, load_project_app(root, spec), None)
    except AppError as exc:
        return AppChoice(
            spec,
            source,
            None,
            f"the App ({spec}, from {source}) cannot be loaded, so the stacks are not "
            f"checked against it: {exc}",
        )


def app_notes(
    root: Path,
    env: str,
    stack_files: list[Path],
    cli_app: str | None = None,
    choice: AppChoice | None = None,
) -> list[str]:
    """Notes on every stack that is not the current App's, or older than its code or env file."""
    notes: list[str] = []
    if choice is None:
        choice = choose_app(root, env, cli_app)
        if choice.error:
            notes.append(choice.error)
    app, spec, source = choice.app, choice.spec, choice.source
    env_file = root / "environments" / f"{env}.toml"
    code_now = code_fingerprint(app) if app is not None else None
    env_now = file_fingerprint(env_file) if env_file.exists() else None
    unrecorded: list[str] = []
    for file in stack_files:
        where = file.parent.name
        record = read_record(file)
        if record is None:
            unrecorded.append(where)
        elif app is not None and record.app is not None and record.app != app.name:
            notes.append(
                f"{where} was synthesized from app {record.app!r}"
                + (f" ({record.spec})" if record.spec else "")
                + f", not from app {app.name!r} ({spec}, from {source}): its resources are "
                "another app's; run `make synth`"
            )
            continue
        if app is not None:
            stale_code = (
                record.code != code_now
                if record is not None and record.code is not None
                else newest_code_mtime(app) > file.stat().st_mtime
            )
            if stale_code:
                notes.append(
                    f"{where} is older than app {app.name!r}'s code ({', '.join(app.code)}): "
                    "run `make synth` to compare what would deploy now"
                )
        if env_file.exists():
            stale_env = (
                record.environment != env_now
                if record is not None and record.environment is not None
                else env_file.stat().st_mtime > file.stat().st_mtime
            )
            if stale_env:
                notes.append(
                    f"{where} is older than environments/{env}.toml: run `make synth` to see "
                    "the current settings"
                )
    if unrecorded and app is not None:
        notes.append(
            f"{', '.join(unrecorded)} record no App: cannot tell whether "
            f"they are app {app.name!r} ({spec}, from {source}); run `make synth`"
        )
    return notes

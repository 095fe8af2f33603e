"""``statekit compare`` reads the App: stacks of another App, or older than its code or the
environment file, are named in a note instead of being compared silently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from statekit.app import code_fingerprint, file_fingerprint
from statekit.compare.app_check import app_notes, load_project_app
from statekit.compare.artifacts import load_stacks
from tests.compare.fixtures import aws_stack

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "tests" / "apps"
SPEC = "booking.app:APP"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder: the environment naming the booking App, one synthesized stack."""
    monkeypatch.syspath_prepend(str(APPS))
    monkeypatch.delenv("STATEKIT_APP", raising=False)
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.toml").write_text(
        f'name = "dev"\nclouds = ["aws"]\napp = "{SPEC}"\n'
    )
    (tmp_path / "cdktf.json").write_text("{}")
    stack = tmp_path / "cdktf.out" / "stacks" / "booking-aws-dev" / "cdk.tf.json"
    stack.parent.mkdir(parents=True)
    stack.write_text(json.dumps(aws_stack("dev")))
    return tmp_path


def stack_file(project: Path) -> Path:
    return project / "cdktf.out" / "stacks" / "booking-aws-dev" / "cdk.tf.json"


def record(project: Path, *, where: str = "comment", **overrides: str) -> None:
    """Record the App in the stack as the IaC side does (``//.statekit``), or beside it."""
    app = load_project_app(project, SPEC)
    value = {
        "app": "booking",
        "app_ref": SPEC,
        "code_fingerprint": code_fingerprint(app),
        "environment_fingerprint": file_fingerprint(project / "environments" / "dev.toml"),
        **overrides,
    }
    if where == "comment":
        stack = json.loads(stack_file(project).read_text())
        stack["//"] = {"statekit": value}
        stack_file(project).write_text(json.dumps(stack))
    else:
        stack_file(project).with_name("statekit.json").write_text(json.dumps(value))


def notes(project: Path, app: str | None = None) -> list[str]:
    return app_notes(project, "dev", [stack_file(project)], app)


def test_stacks_of_the_current_app_get_no_note(project: Path) -> None:
    record(project)
    assert notes(project) == []
    assert load_stacks(project, "dev", synth=False).notes == []


def test_stacks_of_another_app_are_named(project: Path) -> None:
    record(project, app="shop", app_ref="handlers.app:APP")
    [note] = notes(project)
    assert note.startswith(
        "booking-aws-dev was synthesized from app 'shop' (handlers.app:APP), not from app "
        "'booking' (booking.app:APP, from environments/dev.toml)"
    )


def test_stacks_older_than_the_apps_code(project: Path) -> None:
    record(project, code_fingerprint="0" * 64)
    assert notes(project) == [
        "booking-aws-dev is older than app 'booking''s code (booking): run `make synth` to "
        "compare what would deploy now"
    ]


def test_stacks_older_than_the_environment_file(project: Path) -> None:
    record(project)
    env_file = project / "environments" / "dev.toml"
    env_file.write_text(env_file.read_text() + "\n[functions]\nmemory_mb = 1024\n")
    assert notes(project) == [
        "booking-aws-dev is older than environments/dev.toml: run `make synth` to see the "
        "current settings"
    ]


def test_a_record_beside_the_stack_is_read_too(project: Path) -> None:
    record(project, where="beside", app="shop")
    assert "synthesized from app 'shop'" in notes(project)[0]


def test_a_record_in_the_stacks_output_is_read_too(project: Path) -> None:
    stack = json.loads(stack_file(project).read_text())
    stack["output"] = {"statekit_app": {"value": json.dumps({"app": "shop"})}}
    stack_file(project).write_text(json.dumps(stack))
    assert "synthesized from app 'shop'" in notes(project)[0]


def test_stacks_without_a_record_say_so(project: Path) -> None:
    # Fresh files: the modification times say nothing is stale; the record is missing.
    assert notes(project) == [
        "booking-aws-dev record no App: cannot tell whether they are app "
        "'booking' (booking.app:APP, from environments/dev.toml); run `make synth`"
    ]


def test_the_app_is_chosen_by_flag_then_variable_then_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(project)
    assert (
        "not from app 'shop' (handlers.app:APP, from --app)"
        in notes(project, "handlers.app:APP")[0]
    )
    monkeypatch.setenv("STATEKIT_APP", "handlers.app:APP")
    assert "from $STATEKIT_APP" in notes(project)[0]


def test_an_app_that_cannot_be_loaded_is_a_note_not_a_crash(project: Path) -> None:
    [note, *_] = notes(project, "nowhere.app:APP")
    assert note.startswith(
        "the App (nowhere.app:APP, from --app) cannot be loaded, so the stacks are not checked "
        "against it: app 'nowhere.app:APP': no module 'nowhere.app'"
    )


def test_statekit_compare_prints_the_note(project: Path) -> None:
    record(project, app="shop", app_ref="handlers.app:APP")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "STATEKIT_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(APPS), str(ROOT)])
    done = subprocess.run(
        [sys.executable, "-m", "statekit.cli", "compare", "--env", "dev", "--no-synth"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = " ".join(done.stdout.split())  # rich wraps long notes
    assert (
        "note: booking-aws-dev was synthesized from app 'shop' (handlers.app:APP), not from app "
        "'booking' (booking.app:APP, from environments/dev.toml)" in printed
    )


def test_stacks_of_another_app_only_are_shown_with_a_note(project: Path) -> None:
    """Only an older kit's ``state-aws-dev`` (or another App's) stacks: named, not silent."""
    stacks = project / "cdktf.out" / "stacks"
    (stacks / "booking-aws-dev").rename(stacks / "state-aws-dev")
    found = load_stacks(project, "dev", synth=False)
    assert list(found.stacks) == ["aws"]
    assert found.notes[0] == (
        f"{project / 'cdktf.out'}/stacks has no dev stacks of app 'booking'; these are "
        "state-aws-dev: run `make synth` (or `STATEKIT_ENVS=dev python main.py`)"
    )
    assert "state-aws-dev record no App" in found.notes[1]


def test_the_apps_stacks_are_chosen_among_several_apps(project: Path) -> None:
    record(project)
    stacks = project / "cdktf.out" / "stacks"
    other = stacks / "shop-aws-dev"
    other.mkdir()
    other.joinpath("cdk.tf.json").write_text(json.dumps(aws_stack("dev")))
    found = load_stacks(project, "dev", synth=False)
    assert found.stacks["aws"].name == "booking-aws-dev"
    assert found.notes == []

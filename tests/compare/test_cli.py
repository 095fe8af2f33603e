"""``statekit compare`` end to end: terminal output, the HTML file, and clear notes when inputs are missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from statekit.cli import build_app
from tests.compare.fixtures import write_reports, write_stacks


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cdktf.json").write_text("{}")  # marks the project root
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_compare_prints_every_section_and_writes_the_html(project: Path) -> None:
    write_stacks(project / "cdktf.out")
    write_reports(project / ".statekit" / "reports")
    code, output = run(
        "compare", "--env", "dev", "--workload", "busy-api", "--html", "out/report.html"
    )
    assert code == 0, output
    for heading in (
        "1. Resources",
        "2. Capabilities",
        "3. Performance",
        "4. Cost",
        "5. Advice",
        "verdict:",
    ):
        assert heading in output
    assert (
        "AWS (eu-west-1)" in output
        and "Azure (westeurope)" in output
        and "Google Cloud (europe-west1)" in output
    )
    html = (project / "out" / "report.html").read_text()
    assert "<svg class='chart' id='cost-chart'" in html
    assert "<svg class='chart' id='latency-chart'" in html
    # Nothing is fetched: no external script, stylesheet, image or font (links to sources are fine).
    for loader in ("<script src", "<link", "<img", "url(", "@import", "<iframe"):
        assert loader not in html


def test_missing_artifacts_are_notes_not_tracebacks(project: Path) -> None:
    code, output = run("compare", "--env", "dev", "--no-synth", "--html", "report.html")
    assert code == 0, output
    assert "Traceback" not in output
    assert "make synth" in output and "make test" in output and "make benchmarks" in output
    assert (project / "report.html").exists()


def test_a_bad_workload_is_an_error_naming_it(project: Path) -> None:
    code, output = run("compare", "--workload", "nope.toml")
    assert code == 2
    assert "nope.toml: no such workload file" in output


def test_importing_the_cli_does_not_load_typer_or_rich() -> None:
    code = (
        "import sys, statekit.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unknown_environment_is_an_error_listing_the_known_ones(project: Path) -> None:
    (project / "environments").mkdir()
    (project / "environments" / "dev.toml").write_text("name = 'dev'\n")
    code, output = run("compare", "--env", "prdo")
    assert code == 2
    assert "--env prdo: no" in output and "(available: dev)" in output

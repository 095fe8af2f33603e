"""The HTML report in headless Chromium: loads with no errors, charts render, three clouds' figures.

Needs Debian's ``chromium`` (scripts/install_system.sh installs it for ``make test``);
skipped with that reason when it is absent.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from statekit.compare.html_report import write_html
from statekit.compare.report import build_report
from statekit.compare.svg import CLOUD_COLOURS
from statekit.compare.workload import find_workload, load_workload
from tests.compare.fixtures import write_reports, write_stacks
from tests.compare.png import colour_counts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1366,900",
]


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def console_lines(stderr: str) -> list[str]:
    """Page console output and uncaught errors as Chromium logs them (``...:CONSOLE(n)] "..."``)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    write_stacks(root / "cdktf.out")
    write_reports(root / ".statekit" / "reports")
    report = build_report(root, "dev", load_workload(find_workload("small-web-app")), synth=False)
    path = root / "report.html"
    write_html(report, path)
    return path


@pytest.fixture(scope="module")
def dom(report_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    done = chromium(tmp_path_factory.mktemp("profile"), "--dump-dom", report_file.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def test_loads_with_no_console_errors(dom: tuple[str, str]) -> None:
    html, stderr = dom
    assert 'data-loaded="yes"' in html
    assert re.search(r'<pre id="page-errors"></pre>', html), "the page recorded errors"
    assert console_lines(stderr) == []


def test_the_error_check_catches_a_broken_page(report_file: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(
        report_file.read_text().replace("</main>", "<script>undefinedFunction();</script></main>")
    )
    done = chromium(tmp_path / "profile", "--dump-dom", broken.as_uri())
    assert "undefinedFunction is not defined" in done.stdout
    assert any("undefinedFunction" in line for line in console_lines(done.stderr))


def test_the_charts_have_a_size(dom: tuple[str, str]) -> None:
    html, _ = dom
    widths = dict(
        re.findall(r'<svg class="chart" id="([a-z-]+)"[^>]*data-rendered-width="(\d+)"', html)
    )
    assert set(widths) == {"cost-chart", "latency-chart"}
    assert all(int(width) > 600 for width in widths.values()), widths


def test_the_dom_holds_the_three_clouds_figures(dom: tuple[str, str]) -> None:
    html, _ = dom
    totals = dict(
        re.findall(
            r'data-cloud="(aws|azure|gcp)"><div>[^<]*<small>[^<]*</small></div>'
            r'<div class="big" data-total="([0-9.]+)">',
            html,
        )
    )
    assert set(totals) == {"aws", "azure", "gcp"}
    assert all(float(total) > 0 for total in totals.values())
    for cloud in ("aws", "azure", "gcp"):
        assert re.search(rf'<td class="num" data-cloud="{cloud}"><b>\$[0-9,.]+</b></td>', html), (
            cloud
        )
        assert (
            f'data-series="{ {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}[cloud] }"'
            in html
        )


def test_the_screenshot_shows_the_cost_chart_in_each_clouds_colour(
    report_file: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "report.png"
    done = chromium(tmp_path / "profile", f"--screenshot={shot}", report_file.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, done.stderr[-2000:]
    counts = colour_counts(shot.read_bytes())
    assert len(counts) > 50, "the screenshot is blank"
    for cloud in ("aws", "azure", "gcp"):
        colour = CLOUD_COLOURS[cloud].lstrip("#")
        rgb = (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
        assert counts[rgb] > 300, f"{cloud}'s bars are not visible in the screenshot"

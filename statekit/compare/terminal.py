"""The comparison as rich tables in the terminal (imported only by the command, so rich loads lazily)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table

from statekit.compare.backends import cloud_of_backend
from statekit.compare.cells import (
    OUTCOME_MARK,
    absent_component,
    measured_mark,
    measured_where_when,
    money,
    number,
    resource_lines,
    setting_lines,
)
from statekit.compare.components import COMPONENT_LABELS
from statekit.compare.report import Report
from statekit.compare.tfjson import CLOUD_NAMES

_OUTCOME_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "xfailed": "yellow",
    "xpassed": "bold red",
    "unsupported": "dim",
    "skipped": "dim",
}


def _notes(console: Any, notes: list[str]) -> None:
    for note in notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def render(report: Report, console: Any | None = None) -> None:
    console = console or Console()
    console.print(
        Rule(escape(f"statekit compare: environment {report.env}, workload {report.workload.name}"))
    )
    console.print(f"generated {report.generated_at}", style="dim")

    console.print(Rule("1. Resources and the settings that matter (from cdktf.out)"))
    _notes(console, report.notes.get("resources", []))
    if report.components:
        table = Table(show_lines=True, expand=True)
        table.add_column("component", style="bold", no_wrap=True)
        for cloud in report.clouds:
            table.add_column(f"{CLOUD_NAMES[cloud]} ({report.stacks[cloud].region})", ratio=1)
        for component, per_cloud in report.components.items():
            cells = []
            for cloud in report.clouds:
                view = per_cloud.get(cloud)
                if view is None:
                    cells.append(f"[dim]{escape(absent_component(report, component, cloud))}[/]")
                    continue
                text = "\n".join(
                    f"[cyan]{escape(line)}[/]" for line in resource_lines(view, compact=True)
                )
                settings = "\n".join(escape(line) for _, line in setting_lines(view))
                cells.append(text + ("\n" + settings if settings else ""))
            table.add_row(COMPONENT_LABELS.get(component, component), *cells)
        console.print(table)

    console.print(Rule("2. Capabilities (conformance results per backend)"))
    _notes(console, report.notes.get("capabilities", []))
    for matrix in report.matrices:
        table = Table(title=f"suite {matrix.suite} (written {matrix.written_at})", expand=False)
        table.add_column("test")
        for backend in matrix.backends:
            table.add_column(f"{backend}\n[dim]{cloud_of_backend(backend)}[/]", justify="center")
        reasons: list[str] = []
        for test in matrix.tests:
            row = []
            for backend in matrix.backends:
                cell = matrix.cells.get((backend, test))
                if cell is None:
                    row.append("")
                    continue
                mark = OUTCOME_MARK.get(cell.outcome, cell.outcome)
                if cell.reason and cell.outcome in ("xfailed", "skipped", "failed"):
                    reasons.append(f"[{len(reasons) + 1}] {backend} {test}: {cell.reason}")
                    mark += f" \\[{len(reasons)}]"
                row.append(f"[{_OUTCOME_STYLE.get(cell.outcome, '')}]{mark}[/]")
            table.add_row(escape(test.removeprefix("test_").replace("_", " ")), *row)
        console.print(table)
        for reason in reasons:
            console.print(f"  {escape(reason)}", style="dim", highlight=False)

    console.print(Rule("3. Performance (benchmarks)"))
    _notes(console, report.notes.get("performance", []))
    if report.measurements:
        measured = measured_where_when(report)
        for line in measured.values():
            console.print(escape(line), style="dim", highlight=False)
        table = Table()
        for column in (
            "backend",
            "cloud",
            "operation",
            "p50 ms",
            "p95 ms",
            "ops/s",
            "where, when",
        ):
            table.add_column(
                column, justify="right" if column[0] in "po" and column != "operation" else "left"
            )
        for m in sorted(report.measurements, key=lambda m: (m.backend, m.operation)):
            table.add_row(
                escape(m.backend),
                cloud_of_backend(m.backend),
                escape(m.operation),
                number(m.p50_ms, 2),
                number(m.p95_ms, 2),
                number(m.ops_per_s, 0),
                escape(measured_mark(measured[(m.where, m.measured_at)])),
            )
        console.print(table)

    console.print(
        Rule(
            f"4. Cost per month for workload {report.workload.name} (list prices checked {report.pricing_checked})"
        )
    )
    _notes(console, report.notes.get("cost", []))
    if report.costs:
        table = Table(show_footer=True)
        table.add_column("component", footer="total")
        for cloud in report.clouds:
            cost = report.costs[cloud]
            table.add_column(
                f"{CLOUD_NAMES[cloud]}\nfloor + usage",
                justify="right",
                footer=f"{money(cost.floor_usd)} + {money(cost.usage_usd)} = {money(cost.total_usd)}",
            )
        components = [
            c
            for c in report.components
            if any(c in cost.by_component() for cost in report.costs.values())
        ]
        for component in components:
            row = []
            for cloud in report.clouds:
                floor, usage = report.costs[cloud].by_component().get(component, (0.0, 0.0))
                priced = component in report.costs[cloud].by_component()
                row.append(f"{money(floor)} + {money(usage)}" if priced else "[dim]-[/]")
            table.add_row(COMPONENT_LABELS.get(component, component), *row)
        console.print(table)
        for cloud in report.clouds:
            for missing in report.costs[cloud].unpriced:
                console.print(
                    f"  [yellow]not priced[/] {CLOUD_NAMES[cloud]} {missing.component}: "
                    f"{escape(missing.what)} ({escape(missing.reason)})",
                    highlight=False,
                )
            notes = sorted(
                {line.region_note for line in report.costs[cloud].lines if line.region_note}
            )
            _notes(console, [f"{CLOUD_NAMES[cloud]}: {note}" for note in notes])
        console.print(
            "  prices are list prices from statekit/compare/pricing.csv: re-check them before deciding",
            style="dim",
        )

    console.print(Rule("5. Advice"))
    for item in report.advice:
        console.print(
            f"[bold]{escape(item.factor)}[/]: {escape(item.recommendation)}", highlight=False
        )
        for reason in item.reasons:
            console.print(f"    {escape(reason)}", style="dim", highlight=False)
    console.print(f"[bold green]verdict:[/] {escape(report.verdict)}", highlight=False)

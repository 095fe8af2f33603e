"""The comparison as one self-contained HTML file: inline CSS, inline SVG charts, no CDN.

The only script is a few inline lines that record load errors and chart sizes into
the page (``#page-errors``, ``data-rendered-width``), so a headless browser's DOM dump
shows whether the report loaded cleanly and its charts have a size.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from statekit.compare.backends import cloud_of_backend
from statekit.compare.cells import (
    OUTCOME_MARK,
    absent_component,
    measured_mark,
    measured_where_when,
    money,
    number,
    quantity,
    resource_lines,
    setting_lines,
)
from statekit.compare.components import COMPONENT_LABELS
from statekit.compare.report import Report
from statekit.compare.svg import CLOUD_COLOURS, Bar, backend_colours, grouped_bars
from statekit.compare.tfjson import CLOUD_NAMES

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1d;background:#f6f7f9}
main{max-width:1280px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #dde;padding-bottom:4px}
.meta{color:#666;margin:0 0 12px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border-radius:8px;padding:10px 14px;border-top:4px solid #999;min-width:220px;flex:1;box-shadow:0 1px 2px #0001}
.card .big{font-size:24px;font-weight:600}
.card.aws{border-color:#e68a00}.card.azure{border-color:#0a6ebd}.card.gcp{border-color:#2e8b47}
table{border-collapse:collapse;background:#fff;width:100%;margin:6px 0 10px;box-shadow:0 1px 2px #0001}
th,td{border:1px solid #e2e4e8;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#eef0f4;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
ul.cell{margin:0;padding-left:16px}ul.cell li.res{color:#064;font-family:ui-monospace,monospace;font-size:12px}
.aspect{display:inline-block;min-width:76px;color:#666;font-size:11px;text-transform:uppercase}
.passed{background:#e7f6ea}.failed,.xpassed{background:#fbe3e3;font-weight:600}.xfailed{background:#fff4d6}
.unsupported,.skipped{color:#888}
.matrix td{text-align:center;font-size:12px}.matrix td:first-child{text-align:left}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;margin:6px 0}
.unpriced{background:#fdecea;border-left:4px solid #d33;padding:6px 10px;margin:4px 0}
.verdict{background:#e8f5e9;border-left:4px solid #2e8b47;padding:8px 12px;font-weight:600}
.chart{background:#fff;border-radius:8px;box-shadow:0 1px 2px #0001;max-height:420px}
small{color:#666}
#page-errors:empty{display:none}#page-errors{background:#fbe3e3;padding:8px}
"""

SCRIPT = """
window.__errors=[];
function __report(m){window.__errors.push(m);var e=document.getElementById('page-errors');if(e){e.textContent=window.__errors.join('\\n');}}
window.addEventListener('error',function(e){__report('error: '+(e.message||e.type));},true);
window.addEventListener('unhandledrejection',function(e){__report('rejection: '+e.reason);});
window.addEventListener('load',function(){document.querySelectorAll('svg.chart').forEach(function(s){
s.setAttribute('data-rendered-width',Math.round(s.getBoundingClientRect().width));});
document.body.setAttribute('data-loaded','yes');});
"""


def _notes(notes: list[str]) -> str:
    return "".join(f"<div class='note'>{escape(note)}</div>" for note in notes)


def _summary(report: Report) -> str:
    cards = []
    for cloud in report.clouds:
        cost = report.costs.get(cloud)
        total = money(cost.total_usd) if cost else "not estimated"
        detail = (
            (
                f"{money(cost.floor_usd)} fixed + {money(cost.usage_usd)} usage"
                + (f", {len(cost.unpriced)} not priced" if cost.unpriced else "")
            )
            if cost
            else ""
        )
        stack = report.stacks[cloud]
        cards.append(
            f"<div class='card {cloud}' data-cloud='{cloud}'><div>{CLOUD_NAMES[cloud]} "
            f"<small>{escape(stack.name)}, {escape(stack.region)}</small></div>"
            f"<div class='big' data-total='{cost.total_usd if cost else ''}'>{total}<small>/month</small></div>"
            f"<div><small>{escape(detail)}; {len(stack.resources)} resources</small></div></div>"
        )
    return (
        f"<div class='cards'>{''.join(cards)}</div><p class='verdict'>{escape(report.verdict)}</p>"
    )


def _resources(report: Report) -> str:
    if not report.components:
        return ""
    head = "".join(
        f"<th>{CLOUD_NAMES[c]} <small>{escape(report.stacks[c].region)}</small></th>"
        for c in report.clouds
    )
    rows = []
    for component, per_cloud in report.components.items():
        cells = []
        for cloud in report.clouds:
            view = per_cloud.get(cloud)
            if view is None:
                cells.append(
                    f"<td><small>{escape(absent_component(report, component, cloud))}</small></td>"
                )
                continue
            items = [f"<li class='res'>{escape(line)}</li>" for line in resource_lines(view)]
            items += [
                f"<li><span class='aspect'>{escape(aspect)}</span> {escape(line)}</li>"
                for aspect, line in setting_lines(view)
            ]
            cells.append(f"<td data-cloud='{cloud}'><ul class='cell'>{''.join(items)}</ul></td>")
        rows.append(
            f"<tr><th>{escape(COMPONENT_LABELS.get(component, component))}</th>{''.join(cells)}</tr>"
        )
    return f"<table><tr><th>component</th>{head}</tr>{''.join(rows)}</table>"


def _capabilities(report: Report) -> str:
    out = []
    for matrix in report.matrices:
        head = "".join(
            f"<th>{escape(b)}<br><small>{cloud_of_backend(b)}</small></th>" for b in matrix.backends
        )
        rows: list[str] = []
        reasons: list[str] = []
        for test in matrix.tests:
            cells = []
            for backend in matrix.backends:
                cell = matrix.cells.get((backend, test))
                if cell is None:
                    cells.append("<td></td>")
                    continue
                mark = OUTCOME_MARK.get(cell.outcome, cell.outcome)
                if cell.reason and cell.outcome in ("xfailed", "skipped", "failed", "unsupported"):
                    reasons.append(
                        f"<li>[{len(reasons) + 1}] {escape(backend)}, {escape(test)}: {escape(cell.reason)}</li>"
                    )
                    mark += f" [{len(reasons)}]"
                cells.append(
                    f"<td class='{cell.outcome}' title='{escape(cell.reason)}'>{escape(mark)}</td>"
                )
            rows.append(
                f"<tr><td>{escape(test.removeprefix('test_').replace('_', ' '))}</td>{''.join(cells)}</tr>"
            )
        out.append(
            f"<h3>suite {escape(matrix.suite)} <small>written {escape(matrix.written_at)}</small></h3>"
            f"<table class='matrix'><tr><th>test</th>{head}</tr>{''.join(rows)}</table>"
            + (f"<ol class='reasons'>{''.join(reasons)}</ol>" if reasons else "")
        )
    return "".join(out)


def _cost_chart(report: Report) -> str:
    # Components that cost something somewhere; all-zero groups would only be empty space.
    components = [
        c
        for c in report.components
        if any(sum(cost.by_component().get(c, (0.0, 0.0))) > 0 for cost in report.costs.values())
    ]
    bars = []
    for component in components:
        for cloud in report.clouds:
            floor, usage = report.costs[cloud].by_component().get(component, (0.0, 0.0))
            axis_label = COMPONENT_LABELS.get(component, component).split(" (")[0]  # "Network"
            bars.append(
                Bar(
                    axis_label,
                    CLOUD_NAMES[cloud],
                    CLOUD_COLOURS[cloud],
                    (("fixed floor", floor), ("usage", usage)),
                )
            )
    if not bars:
        return ""
    legend = [(CLOUD_NAMES[c], CLOUD_COLOURS[c]) for c in report.clouds]
    return grouped_bars(
        f"Monthly cost per component, workload {report.workload.name} (solid: fixed floor, light: usage)",
        bars,
        "USD per month",
        legend,
        chart_id="cost-chart",
    )


def _cost(report: Report) -> str:
    if not report.costs:
        return ""
    components = [
        c
        for c in report.components
        if any(c in cost.by_component() for cost in report.costs.values())
    ]
    head = "".join(
        f"<th>{CLOUD_NAMES[c]}<br><small>floor + usage</small></th>" for c in report.clouds
    )
    rows = []
    for component in components:
        cells = []
        for cloud in report.clouds:
            split = report.costs[cloud].by_component().get(component)
            cells.append(
                f"<td class='num' data-cloud='{cloud}'>{money(split[0])} + {money(split[1])}</td>"
                if split
                else "<td class='num'>-</td>"
            )
        rows.append(
            f"<tr><td>{escape(COMPONENT_LABELS.get(component, component))}</td>{''.join(cells)}</tr>"
        )
    totals = "".join(
        f"<td class='num' data-cloud='{c}'><b>{money(report.costs[c].total_usd)}</b></td>"
        for c in report.clouds
    )
    rows.append(f"<tr><th>total</th>{totals}</tr>")
    lines = []
    for cloud in report.clouds:
        for line in report.costs[cloud].lines:
            lines.append(
                f"<tr><td>{CLOUD_NAMES[cloud]}</td><td>{escape(line.component)}</td><td>{escape(line.resource_type)}</td>"
                f"<td>{escape(line.unit)}</td><td class='num'>{line.units:,.2f}</td>"
                f"<td class='num'>${line.price_usd:g} / {line.per:g}</td><td class='num'>{money(line.floor_usd)}</td>"
                f"<td class='num'>{money(line.usage_usd)}</td>"
                f"<td><small>{escape(line.row.note)} {escape(line.region_note)}</small> "
                f"<a href='{escape(line.row.source)}'>source</a> <small>checked {escape(line.row.checked)}</small></td></tr>"
            )
    unpriced = "".join(
        f"<div class='unpriced'>not priced: {CLOUD_NAMES[item.cloud]} {escape(item.component)}: "
        f"{escape(item.what)} ({escape(item.reason)})</div>"
        for cloud in report.clouds
        for item in report.costs[cloud].unpriced
    )
    return (
        f"<table><tr><th>component</th>{head}</tr>{''.join(rows)}</table>{unpriced}"
        f"<details><summary>every priced line</summary><table><tr><th>cloud</th><th>component</th><th>resource</th>"
        f"<th>unit</th><th>units</th><th>price</th><th>floor</th><th>usage</th><th>notes</th></tr>{''.join(lines)}</table></details>"
        f"<p><small>List prices from statekit/compare/pricing.csv (checked {escape(report.pricing_checked)}); "
        f"re-check them on the source pages before deciding. Free tiers are not subtracted.</small></p>"
    )


def _performance(report: Report) -> str:
    if not report.measurements:
        return ""
    colours = backend_colours(sorted({m.backend for m in report.measurements}))
    bars = [
        Bar(
            m.operation,
            m.backend,
            colours[m.backend],
            (("p50", m.p50_ms),),
            m.p95_ms,
        )
        for m in sorted(report.measurements, key=lambda m: (m.operation, m.backend))
        if m.p50_ms is not None
    ]
    legend = [
        (f"{b} ({cloud_of_backend(b)})", colours[b])
        for b in dict.fromkeys(bar.series for bar in bars)
    ]
    chart = (
        grouped_bars(
            "Latency per operation: bar p50, whisker p95 (log scale)",
            bars,
            "milliseconds",
            legend,
            log_scale=True,
            chart_id="latency-chart",
        )
        if bars
        else ""
    )
    where_when = measured_where_when(report)
    measured = "".join(f"<p><small>{escape(line)}</small></p>" for line in where_when.values())
    chart = measured + chart
    rows = "".join(
        f"<tr><td>{escape(m.backend)}</td><td>{cloud_of_backend(m.backend)}</td><td>{escape(m.operation)}</td>"
        f"<td class='num'>{number(m.p50_ms, 2)}</td><td class='num'>{number(m.p95_ms, 2)}</td>"
        f"<td class='num'>{number(m.ops_per_s, 0)}</td><td>{escape(measured_mark(where_when[(m.where, m.measured_at)]))}</td></tr>"
        for m in sorted(report.measurements, key=lambda m: (m.backend, m.operation))
    )
    return (
        chart
        + "<table><tr><th>backend</th><th>cloud</th><th>operation</th><th>p50 ms</th><th>p95 ms</th>"
        f"<th>ops/s</th><th>where, when</th></tr>{rows}</table>"
    )


def _advice(report: Report) -> str:
    items = "".join(
        f"<li><b>{escape(a.factor)}</b>: {escape(a.recommendation)}<ul>"
        + "".join(f"<li>{escape(reason)}</li>" for reason in a.reasons)
        + "</ul></li>"
        for a in report.advice
    )
    return f"<ul>{items}</ul><p class='verdict'>{escape(report.verdict)}</p>"


def render_html(report: Report) -> str:
    w = report.workload
    usage = ", ".join(f"{key} {quantity(value)}" for key, value in w.usage.items())
    body = [
        f"<h1>statekit compare: {escape(report.env)}</h1>",
        f"<p class='meta'>generated {escape(report.generated_at)}; workload <b>{escape(w.name)}</b>: "
        f"{escape(w.description)} <small>({escape(usage)} per month)</small></p>",
        "<pre id='page-errors'></pre>",
        _summary(report),
        "<h2>Cost per month</h2>",
        _notes(report.notes.get("cost", [])),
        _cost_chart(report),
        _cost(report),
        "<h2>Resources and the settings that matter</h2><p><small>Read from cdktf.out (synthesized Terraform JSON).</small></p>",
        _notes(report.notes.get("resources", [])),
        _resources(report),
        "<h2>Capabilities</h2><p><small>Conformance results per backend, from .statekit/reports/conformance-*.json. "
        "n/a: the backend does not declare the capability (checked to raise Unsupported).</small></p>",
        _notes(report.notes.get("capabilities", [])),
        _capabilities(report),
        "<h2>Performance</h2>",
        _notes(report.notes.get("performance", [])),
        _performance(report),
        "<h2>Advice</h2>",
        _advice(report),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>statekit compare: {escape(report.env)}</title><style>{CSS}</style>"
        f"<script>{SCRIPT}</script></head><body><main>{''.join(body)}</main></body></html>"
    )


def write_html(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")

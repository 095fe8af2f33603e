"""Text for the report's cells, shared by the terminal and HTML views."""

from __future__ import annotations

from collections import Counter

from statekit.compare.report import ComponentView, Report
from statekit.compare.settings_rules import RULES

OUTCOME_MARK = {
    "passed": "pass",
    "failed": "FAIL",
    "xfailed": "xfail",
    "xpassed": "XPASS",
    "unsupported": "n/a",
    "skipped": "skip",
}


def absent_component(report: Report, component: str, cloud: str) -> str:
    """What to say where a cloud's stack has no resource for a component."""
    cost = report.costs.get(cloud)
    hosts = (
        sorted({line.resource_type for line in cost.lines if line.component == component})
        if cost
        else []
    )
    if hosts:
        return f"no resources of its own: runs in and is priced through {', '.join(hosts)}"
    return (
        f"not created ({report.switched_off[component]})"
        if component in report.switched_off
        else "not created"
    )


def resource_lines(view: ComponentView, compact: bool = False) -> list[str]:
    """``aws_lambda_function x3`` or ``aws_dynamodb_table statekit-dev-store``.

    ``compact`` (the terminal) lists the types that have settings rules and counts the
    supporting ones (roles, policies, attachments); the HTML report lists everything.
    """
    counts = Counter(resource.type for resource in view.resources)
    supporting = sum(n for type_, n in counts.items() if type_ not in RULES) if compact else 0
    lines = []
    for type_, count in counts.items():
        if supporting and type_ not in RULES:
            continue
        if count == 1:
            only = next(r for r in view.resources if r.type == type_)
            lines.append(f"{type_} {only.name}")
        else:
            lines.append(f"{type_} x{count}")
    if supporting:
        lines.append(f"+ {supporting} supporting (identities, policies; see --html)")
    return lines


def setting_lines(view: ComponentView) -> list[tuple[str, str]]:
    """(aspect, "label: value") once per distinct pair, with a count if resources repeat it."""
    counts = Counter((s.aspect, s.label, s.value) for s in view.settings)
    return [
        (aspect, f"{label}: {value}" + (f" (x{count})" if count > 1 else ""))
        for (aspect, label, value), count in counts.items()
    ]


def money(value: float) -> str:
    return f"${value:,.2f}"


def measured_where_when(report: Report) -> dict[tuple[str, str], str]:
    """``[n] measured on <where>, at <when>`` per distinct (where, when); rows refer to ``[n]``."""
    pairs = dict.fromkeys((m.where, m.measured_at) for m in report.measurements)
    return {pair: f"[{n}] measured on {pair[0]}, at {pair[1]}" for n, pair in enumerate(pairs, 1)}


def measured_mark(line: str) -> str:
    return line.split(" ", 1)[0]


def quantity(value: float) -> str:
    """3,000,000 rather than 3e+06; fractions kept (0.5 GB)."""
    return f"{value:,.0f}" if value == int(value) else f"{value:,}"


def number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"

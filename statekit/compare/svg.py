"""Inline SVG charts, generated here so the HTML report needs no library, CDN or script."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from statekit.compare.backends import cloud_of_backend

CLOUD_COLOURS = {
    "aws": "#e68a00",
    "azure": "#0a6ebd",
    "gcp": "#2e8b47",
    "all": "#8a4fbf",
    "local": "#6b6b6b",
    "other": "#999999",
}
# Shades per cloud, so two backends of one cloud (dynamodb, sqs) stay apart in a chart.
SHADES = {
    "aws": ("#e68a00", "#a35f00", "#ffb84d", "#7a4700"),
    "azure": ("#0a6ebd", "#064a80", "#5aa7e6", "#03305a"),
    "gcp": ("#2e8b47", "#1b5e2f", "#6cc487", "#0f3a1c"),
    "all": ("#8a4fbf", "#5e2f8a", "#b48ade"),
    "local": ("#6b6b6b", "#9a9a9a", "#404040"),
    "other": ("#999999", "#cccccc"),
}
FONT = "font-family='system-ui, sans-serif' font-size='12'"


@dataclass(frozen=True)
class Bar:
    group: str  # the x category (a component, an operation)
    series: str  # the coloured thing (a cloud, a backend)
    colour: str
    segments: tuple[tuple[str, float], ...]  # stacked (label, value) from the bottom
    whisker: float | None = None  # e.g. p95 drawn over a p50 bar


def backend_colours(backends: Sequence[str]) -> dict[str, str]:
    """A colour per backend: its cloud's hue, a different shade for each backend of that cloud."""
    used: dict[str, int] = {}
    colours = {}
    for backend in backends:
        cloud = cloud_of_backend(backend)
        shades = SHADES.get(cloud, SHADES["other"])
        colours[backend] = shades[used.get(cloud, 0) % len(shades)]
        used[cloud] = used.get(cloud, 0) + 1
    return colours


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * exponent:
            return float(step * exponent)
    return float(10 * exponent)


def _text(x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' {FONT} {extra}>{escape(text)}</text>"
    )


def grouped_bars(
    title: str,
    bars: Sequence[Bar],
    unit: str,
    legend: Sequence[tuple[str, str]],
    *,
    segment_opacity: Sequence[float] = (1.0, 0.45),
    width: int = 960,
    height: int = 340,
    log_scale: bool = False,
    chart_id: str = "",
) -> str:
    """Vertical bars grouped by ``group``, one per series, with stacked segments and optional whiskers."""
    groups = list(dict.fromkeys(bar.group for bar in bars))
    series = list(dict.fromkeys(bar.series for bar in bars))
    left, right, top, bottom = 70, 20, 40, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max(
        [sum(v for _, v in bar.segments) for bar in bars] + [bar.whisker or 0 for bar in bars] + [0]
    )
    parts = [
        f"<svg class='chart' id='{escape(chart_id)}' role='img' aria-label='{escape(title)}' "
        f"viewBox='0 0 {width} {height}' width='100%' xmlns='http://www.w3.org/2000/svg'>",
        f"<title>{escape(title)}</title>",
        _text(left, 20, title, "start", "font-weight='600' font-size='14'"),
    ]
    if log_scale:
        positives = [v for bar in bars for _, v in bar.segments if v > 0] + [
            b.whisker for b in bars if b.whisker
        ]
        low = 10 ** math.floor(math.log10(min(positives))) if positives else 0.01
        high = 10 ** math.ceil(math.log10(max(positives))) if positives else 1.0
        high = max(high, low * 10)

        def y_of(value: float) -> float:
            value = max(value, low)
            return top + plot_h - (math.log10(value / low) / math.log10(high / low)) * plot_h

        ticks = [low * 10**i for i in range(round(math.log10(high / low)) + 1)]
    else:
        high = _nice_max(top_value)

        def y_of(value: float) -> float:
            return top + plot_h - value / high * plot_h

        ticks = [high * i / 5 for i in range(6)]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f"<line x1='{left}' x2='{width - right}' y1='{y:.1f}' y2='{y:.1f}' stroke='#ddd'/>"
        )
        label = f"{tick:,.0f}" if tick >= 10 else f"{tick:g}"
        parts.append(_text(left - 6, y + 4, f"{label}", "end"))
    parts.append(
        _text(
            14,
            top + plot_h / 2,
            unit,
            "middle",
            f"transform='rotate(-90 14 {top + plot_h / 2:.1f})'",
        )
    )
    group_w = plot_w / max(len(groups), 1)
    bar_w = min(42.0, group_w * 0.8 / max(len(series), 1))
    for g_index, group in enumerate(groups):
        members = [bar for bar in bars if bar.group == group]
        start = left + g_index * group_w + (group_w - bar_w * len(members)) / 2
        for b_index, bar in enumerate(members):
            x = start + b_index * bar_w
            base = 0.0
            for s_index, (label, value) in enumerate(bar.segments):
                y0, y1 = (
                    y_of(base) if base > 0 or not log_scale else top + plot_h,
                    y_of(base + value),
                )
                opacity = segment_opacity[min(s_index, len(segment_opacity) - 1)]
                parts.append(
                    f"<rect class='bar' data-series='{escape(bar.series)}' data-group='{escape(group)}' "
                    f"x='{x + 1:.1f}' y='{min(y0, y1):.1f}' width='{bar_w - 2:.1f}' height='{abs(y0 - y1):.1f}' "
                    f"fill='{bar.colour}' fill-opacity='{opacity}'><title>{escape(f'{bar.series} {group} {label}: {value:,.2f} {unit}')}</title></rect>"
                )
                base += value
            if bar.whisker is not None:
                wy = y_of(bar.whisker)
                cx = x + bar_w / 2
                parts.append(
                    f"<line x1='{cx:.1f}' x2='{cx:.1f}' y1='{y_of(base):.1f}' y2='{wy:.1f}' stroke='#222'/>"
                    f"<line x1='{cx - 5:.1f}' x2='{cx + 5:.1f}' y1='{wy:.1f}' y2='{wy:.1f}' stroke='#222'/>"
                )
        parts.append(_text(left + (g_index + 0.5) * group_w, top + plot_h + 18, group))
    parts.append(
        f"<line x1='{left}' x2='{width - right}' y1='{top + plot_h}' y2='{top + plot_h}' stroke='#444'/>"
    )
    x = float(left)
    for label, colour in legend:
        parts.append(
            f"<rect x='{x:.1f}' y='{height - 26}' width='12' height='12' fill='{colour}'/>"
        )
        parts.append(_text(x + 16, height - 16, label, "start"))
        x += 24 + 7.2 * len(label)
    parts.append("</svg>")
    return "".join(parts)

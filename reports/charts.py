"""Server-side SVG charts of the Reports page, drawn like the workflow analytics chart (`workflows.admin.charts`:
no JavaScript, no CDN): grouped bars per report row, a y axis of whole round steps, and each bar a link to the
conversation list it counts, with a `<title>` tooltip and `data-*` attributes carrying its number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 880, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 40
MAX_LABEL_CHARS = 14
MAX_X_LABELS = 16


@dataclass(frozen=True)
class Series:
    """One bar per row: its name, colour, the value it shows, and the figure filter its link adds."""

    name: str
    colour: str
    value: Callable[[dict], float | None]
    figure: str = ""


def nice_step(value: float) -> float:
    """The smallest 1/2/5 × 10^n step giving at most four grid intervals up to `value`."""
    target = max(value / 4, 1)
    magnitude = 10 ** math.floor(math.log10(target))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= target)


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _y_axis(top: float, step: float, plot_height: float) -> SafeString:
    lines, tick = [], 0.0
    while tick <= top + 1e-9:
        y = f"{TOP + plot_height * (1 - tick / top):.1f}"
        lines.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d0d7de" stroke-width="1"/>'
                '<text x="{}" y="{}" dy="4" text-anchor="end" font-size="11" fill="#57606a">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                y,
                y,
                LEFT - 6,
                y,
                _number(tick),
            )
        )
        tick += step
    return mark_safe("".join(lines))


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _x_labels(rows: list[dict], slot: float) -> SafeString:
    every = max(1, math.ceil(len(rows) / MAX_X_LABELS))
    return mark_safe(
        "".join(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#57606a">{}</text>',
                f"{LEFT + slot * (index + 0.5):.1f}",
                HEIGHT - BOTTOM + 16,
                _short(row["label"]),
            )
            for index, row in enumerate(rows)
            if index % every == 0
        )
    )


def grouped_bars_svg(
    rows: list[dict], series: list[Series], link: Callable[[dict, str], str], *, label: str, unit: str = ""
) -> SafeString:
    """Bars of each series side by side for each row; each bar links to `link(row, series.figure)`."""
    plot_height = HEIGHT - TOP - BOTTOM
    highest = max((s.value(row) or 0 for row in rows for s in series), default=0)
    step = nice_step(highest)
    top = step * max(math.ceil(highest / step), 1)
    slot = (WIDTH - LEFT - RIGHT) / max(len(rows), 1)
    bar_width = max(slot * 0.8 / len(series), 1.0)
    bars = []
    for index, row in enumerate(rows):
        for position, one in enumerate(series):
            value = one.value(row)
            height = (value or 0) * plot_height / top
            x = LEFT + slot * index + slot * 0.1 + bar_width * position
            shown = "–" if value is None else f"{_number(value)}{unit}"
            bars.append(
                format_html(
                    '<a href="{}"><g class="bar bar-{}" data-key="{}" data-value="{}"><title>{}: {} {}</title>'
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/></g></a>',
                    link(row, one.figure),
                    one.figure or "created",
                    row["key"] if row["key"] is not None else "",
                    "" if value is None else value,
                    row["label"],
                    shown,
                    one.name,
                    f"{x:.1f}",
                    f"{TOP + plot_height - height:.1f}",
                    f"{bar_width:.1f}",
                    f"{height:.1f}",
                    one.colour,
                )
            )
    return format_html(
        '<svg class="report-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-label="{}">{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        label,
        _y_axis(top, step, plot_height),
        mark_safe("".join(bars)),
        _x_labels(rows, slot),
    )


def legend(series: list[Series]) -> SafeString:
    return mark_safe(
        "".join(format_html('<span><i style="background:{}"></i>{}</span>', s.colour, s.name) for s in series)
    )

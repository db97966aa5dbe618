"""Server-side SVG charts for the admin pages: no JavaScript library and no CDN, just markup Django renders.

The execution trend is a stacked bar per day (succeeded, failed, other finished or in-flight runs), with a y axis
of whole round steps and each bar carrying a `<title>` tooltip and `data-*` attributes with its numbers.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 880, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 36
COLOURS = {"succeeded": "#1a7f37", "failed": "#cf222e", "other": "#8c959f"}
MAX_X_LABELS = 12


def _nice_step(value: int) -> int:
    """The smallest whole 1/2/5 × 10^n step giving at most four grid intervals up to `value`."""
    target = max(value / 4, 1)
    magnitude = 10 ** math.floor(math.log10(target))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= target)


def _y_axis(top: int, step: int, plot_height: float) -> SafeString:
    """Grid lines with whole-number labels every `step` runs, from 0 to `top`."""
    lines = []
    for tick in range(0, top + 1, step):
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
                tick,
            )
        )
    return mark_safe("".join(lines))


def _bar(day: dict[str, Any], x: float, width: float, scale: float, bottom: float) -> SafeString:
    """One day's stacked bar: succeeded at the bottom, then failed, then the rest."""
    other = max(day["executions"] - day["succeeded"] - day["failed"], 0)
    parts, y = [], bottom
    for kind, count in (("succeeded", day["succeeded"]), ("failed", day["failed"]), ("other", other)):
        if count:
            height = count * scale
            y -= height
            parts.append(
                format_html(
                    '<rect class="bar-{}" x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                    kind,
                    f"{x:.1f}",
                    f"{y:.1f}",
                    f"{width:.1f}",
                    f"{height:.1f}",
                    COLOURS[kind],
                )
            )
    tooltip = _("%(date)s: %(executions)s runs, %(succeeded)s succeeded, %(failed)s failed") % {
        "date": day["date"],
        "executions": day["executions"],
        "succeeded": day["succeeded"],
        "failed": day["failed"],
    }
    return format_html(
        '<g class="day" data-date="{}" data-executions="{}" data-succeeded="{}" data-failed="{}">'
        "<title>{}</title>{}</g>",
        day["date"],
        day["executions"],
        day["succeeded"],
        day["failed"],
        tooltip,
        mark_safe("".join(parts)),
    )


def _x_labels(daily: list[dict[str, Any]], slot: float) -> SafeString:
    every = max(1, math.ceil(len(daily) / MAX_X_LABELS))
    return mark_safe(
        "".join(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#57606a">{}</text>',
                f"{LEFT + slot * (index + 0.5):.1f}",
                HEIGHT - BOTTOM + 16,
                day["date"][5:],
            )
            for index, day in enumerate(daily)
            if index % every == 0
        )
    )


def execution_trend_svg(daily: list[dict[str, Any]]) -> SafeString:
    """The daily trend of `workflows.selectors.workflow_analytics` as an SVG stacked bar chart."""
    plot_height = HEIGHT - TOP - BOTTOM
    highest = max((day["executions"] for day in daily), default=0)
    step = _nice_step(highest)
    top = step * max(math.ceil(highest / step), 1)
    slot = (WIDTH - LEFT - RIGHT) / max(len(daily), 1)
    bar_width = max(slot * 0.7, 1.0)
    bars = mark_safe(
        "".join(
            _bar(day, LEFT + slot * index + (slot - bar_width) / 2, bar_width, plot_height / top, TOP + plot_height)
            for index, day in enumerate(daily)
        )
    )
    return format_html(
        '<svg class="execution-trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
        'role="img" aria-label="{}">{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        _("Workflow executions per day"),
        _y_axis(top, step, plot_height),
        bars,
        _x_labels(daily, slot),
    )

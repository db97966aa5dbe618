"""Exact percentiles without a sort (docs/reports.md "Percentiles"): the k-th smallest value of a group is read by
walking an index ordered by (group column, value) — `ORDER BY value LIMIT 2 OFFSET k` over `ReportRow`'s partial
indexes — where k comes from the grouped count of non-null values, then interpolated linearly (as percentile_cont).
A p90 is walked from the top (`ORDER BY value DESC`), so no walk passes more than half of a group's values.

A local day (group_by=day) is a range of creation moments covering one to three UTC dates; its values come from
one ordered arm per UTC date (index `(created_day, value, created_at)`), merged in order (`UNION ALL ... ORDER BY`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import F, QuerySet

from reports.models import ReportRow
from reports.periods import Period, local_midnight

PERCENTILES = (0.5, 0.9)
# The report row column of each grouping whose groups are a column's values (day is a range of moments).
COLUMNS = {"agent": "agent_id", "team": "team_id", "channel": "channel"}


def rows_in(period: Period) -> QuerySet:
    """The report rows of conversations created in the period."""
    return ReportRow.objects.filter(created_at__gte=period.start, created_at__lt=period.end)


def walkable(grouping_name: str | None) -> bool:
    """Groupings whose percentiles are index walks (None: the total)."""
    return grouping_name is None or grouping_name in COLUMNS or grouping_name == "day"


def interpolated(fetch: Callable[[bool, int], list[float]], count: int) -> list[float | None]:
    """Median and p90 of `count` values, reading at most two values per fraction: `fetch(descending, offset)` gives
    the values from that position of the ascending (or descending) order."""
    points: list[float | None] = []
    for fraction in PERCENTILES:
        if not count:
            points.append(None)
            continue
        position = fraction * (count - 1)
        low = int(position)
        high = min(low + 1, count - 1)
        if low <= count - 1 - high:
            values = fetch(False, low)
            at_low, at_high = values[0], values[1] if high > low else values[0]
        else:
            values = fetch(True, count - 1 - high)
            at_high, at_low = values[0], values[1] if high > low else values[0]
        points.append(at_low + (at_high - at_low) * (position - low))
    return points


def _fetcher(arms: list[QuerySet], figure: str) -> Callable[[bool, int], list[float]]:
    def fetch(descending: bool, offset: int) -> list[float]:
        values = [arm.filter(**{f"{figure}__isnull": False}).values_list(figure, flat=True) for arm in arms]
        merged = values[0].union(*values[1:], all=True) if len(values) > 1 else values[0]
        order = F(figure).desc() if descending else F(figure).asc()
        if len(values) > 1:
            order = f"-{figure}" if descending else figure
        return list(merged.order_by(order)[offset : offset + 2])

    return fetch


def _day_arms(period: Period, day: dt.date) -> list[QuerySet]:
    """The rows of one local day, one queryset per UTC date it touches."""
    start = max(local_midnight(day, period.zone), period.start)
    end = min(local_midnight(day + dt.timedelta(days=1), period.zone), period.end)
    first, last = start.date(), (end - dt.timedelta(microseconds=1)).date()
    return [
        ReportRow.objects.filter(created_day=first + dt.timedelta(days=n), created_at__gte=start, created_at__lt=end)
        for n in range((last - first).days + 1)
    ]


def _arms(period: Period, grouping_name: str | None, key: Any) -> list[QuerySet]:
    if grouping_name is None:
        return [rows_in(period)]
    if grouping_name == "day":
        return _day_arms(period, key)
    return [rows_in(period).filter(**{COLUMNS[grouping_name]: key})]


def walk_minutes(period: Period, grouping_name: str | None, rows: dict[Any, dict], figures: Iterable[str]) -> None:
    """Complete each row of `rows` (keyed by group, with `n_<figure>` counts) with `<figure>_median` / `_p90`."""
    for key, row in rows.items():
        arms = _arms(period, grouping_name, key)
        for figure in figures:
            row[f"{figure}_median"], row[f"{figure}_p90"] = interpolated(_fetcher(arms, figure), row[f"n_{figure}"])

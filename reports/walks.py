"""Exact percentiles without a sort (docs/reports.md "Percentiles"): the k-th smallest value of a group is read by
walking an index ordered by (group column, value) — `ORDER BY value LIMIT 2 OFFSET k` over `ReportRow`'s partial
indexes — where k comes from the grouped count of non-null values, then interpolated linearly (as percentile_cont).
A p90 is walked from the top (`ORDER BY value DESC`), so no walk passes more than half of a group's values.

The tag grouping walks its own rows (`ReportTagRow`, one per conversation and tag, or one without a tag) through
their indexes `(tag, value, created_at)`, as the other groupings walk `ReportRow`'s.

A local day (group_by=day) is a range of creation moments covering one to three UTC dates; its values come from
one ordered arm per UTC date (index `(created_day, value, created_at)`), merged in order (`UNION ALL ... ORDER BY`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet

from reports.models import ROW_FIGURES, ReportRow, ReportTagRow
from reports.periods import Period, local_midnight

PERCENTILES = (0.5, 0.9)
# The report row column of each grouping whose groups are a column's values (day is a range of moments).
COLUMNS = {"agent": "agent_id", "team": "team_id", "channel": "channel", "tag": "tag_id"}
# The walk index of (grouping, figure): `rr_<grouping>_<figure>` (models.ROW_GROUPS / ROW_FIGURES), `rr_all_...`.
INDEX_GROUPS = {"agent": "agent", "team": "team", "channel": "chan", "day": "day", None: "all"}
INDEX_FIGURES = dict(ROW_FIGURES)
# A period holding at least this share of all rows is walked in value order even where SQLite's planner would rather
# read the period's range and sort it (it does not know the range holds most of the table).
WIDE_SHARE = 0.25
# PostgreSQL: below this many rows in the period percentile_cont's sorts are cheaper than the walks (at 3,000
# conversations a 90-day `day` report took 0.05 s sorted and 0.16 s walked; at 100,000 0.5-0.9 s sorted, 0.2-0.3 s
# walked).
WALK_MIN_ROWS = 20_000


def rows_of(grouping_name: str | None) -> QuerySet:
    """Every row the grouping reads: the tag rows for tag, else the report rows."""
    return (ReportTagRow if grouping_name == "tag" else ReportRow).objects.all()


def rows_in(period: Period, grouping_name: str | None = None) -> QuerySet:
    """The rows (`rows_of`) of conversations created in the period."""
    return rows_of(grouping_name).filter(created_at__gte=period.start, created_at__lt=period.end)


def _walk_index(grouping_name: str | None, figure: str) -> str:
    """The (group, value) index a walk reads: `rtr_<figure>` over the tag rows, else `rr_<grouping>_<figure>`."""
    if grouping_name == "tag":
        return f"rtr_{INDEX_FIGURES[figure]}"
    return f"rr_{INDEX_GROUPS[grouping_name]}_{INDEX_FIGURES[figure]}"


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
        ascending = low <= count - 1 - high
        values = fetch(not ascending, low if ascending else count - 1 - high)
        if not values:  # rows deleted between the count and the walk: no figure rather than an error
            points.append(None)
            continue
        near, far = values[0], values[1] if high > low and len(values) > 1 else values[0]
        at_low, at_high = (near, far) if ascending else (far, near)
        points.append(at_low + (at_high - at_low) * (position - low))
    return points


def _fetcher(arms: list[QuerySet], figure: str, index: str | None) -> Callable[[bool, int], list[float]]:
    def fetch(descending: bool, offset: int) -> list[float]:
        values = [arm.filter(**{f"{figure}__isnull": False}).values_list(figure, flat=True) for arm in arms]
        walk = values[0].order_by(F(figure).desc() if descending else F(figure).asc())[offset : offset + 2]
        if index is None or connection.vendor != "sqlite":  # PostgreSQL's planner picks the index itself
            return list(walk)
        return _indexed(walk, index)

    return fetch


def _indexed(queryset: QuerySet, index: str) -> list[float]:
    """The values of a one-column queryset over its rows' table, read through `index` (SQLite's INDEXED BY)."""
    sql, params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {connection.ops.quote_name(index)}", 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def walk_scope(created: int, period: Period | None = None) -> str:
    """How to walk a period of `created` rows: "range" (narrow: the planner reads the period's range and sorts it),
    "wide" (walk the value index, filtering the period) or "all" (the period holds every row: walk the value index
    without testing each entry's creation moment, which is most of a walk's cost)."""
    if connection.vendor == "postgresql" and period is not None:
        return postgres_scope(period)
    if connection.vendor != "sqlite":
        return "range"
    everything = ReportRow.objects.count()
    if created >= everything:
        return "all"
    return "wide" if created >= WIDE_SHARE * everything else "range"


def postgres_scope(period: Period) -> str:
    """PostgreSQL: "range" when the period holds fewer than WALK_MIN_ROWS rows by the planner's estimate (sorting a
    few thousand values costs less than a statement of walks); else "all" when no row was created outside the
    period (the first and last creation moments, two index probes), "wide" when it holds at least WIDE_SHARE of the
    rows by the estimates, else "range". The estimates only choose the faster way: walks and percentile_cont give
    the same figures."""
    table = connection.ops.quote_name(ReportRow._meta.db_table)
    with connection.cursor() as cursor:
        # The planner's estimate of the period's rows, from the statistics of created_at.
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE created_at >= %s AND created_at < %s",
            [period.start, period.end],
        )
        plan = cursor.fetchone()[0]
        estimated = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Plan Rows"]
        if estimated < WALK_MIN_ROWS:
            return "range"
        cursor.execute(f"SELECT MIN(created_at), MAX(created_at) FROM {table}")
        first, last = cursor.fetchone()
        if first is None or (period.start <= first and last < period.end):
            return "all"
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [ReportRow._meta.db_table])
        everything = max(cursor.fetchone()[0], 1)
    return "wide" if estimated >= WIDE_SHARE * everything else "range"


def day_bounds(day: dt.date, period: Period) -> tuple[dt.datetime, dt.datetime, dt.date, dt.datetime, dt.datetime]:
    """A local day's moments [start, end), the UTC date holding most of it, and that date's part of the day."""
    start = max(local_midnight(day, period.zone), period.start)
    end = min(local_midnight(day + dt.timedelta(days=1), period.zone), period.end)
    dates = [start.astimezone(dt.UTC).date()]
    while dates[-1] < (end - dt.timedelta(microseconds=1)).astimezone(dt.UTC).date():
        dates.append(dates[-1] + dt.timedelta(days=1))

    def part(date: dt.date) -> tuple[dt.datetime, dt.datetime]:
        midnight = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)
        return max(start, midnight), min(end, midnight + dt.timedelta(days=1))

    walked = max(dates, key=lambda date: part(date)[1] - part(date)[0])
    return start, end, walked, *part(walked)


def _day_fetcher(period: Period, day: dt.date, figure: str) -> Callable[[bool, int], list[float]]:
    """A local day's values in order, merged by SQLite (`UNION ALL ... ORDER BY`, each arm ordered on its own): the
    UTC date holding most of the day (`day_bounds`) walked on its index `(created_day, value, created_at)`, and the
    rest of the day (an hour or two in most zones: the moments before and after the walked part) read by creation
    moment from `rr_created_n`, which holds the figures, and sorted. (One ordered arm per UTC date, as before, made the
    arm of the other date pass all its entries in value order to find its hour: twice the entries of the walk.)
    Plain SQL: a 90-day report runs some 700 of these, and the ORM's compilation would cost more than the walks."""
    quote = connection.ops.quote_name
    ops = connection.ops
    table, value = quote(ReportRow._meta.db_table), quote(figure)
    created_at = quote("created_at")
    start, end, walked, start_walked, end_walked = day_bounds(day, period)
    rest = (
        f"SELECT {value} FROM {table} INDEXED BY {quote('rr_created_n')} WHERE {created_at} >= %s "
        f"AND {created_at} < %s AND {value} IS NOT NULL"
    )
    main = (
        f"SELECT {value} FROM {table} INDEXED BY {quote(_walk_index('day', figure))} WHERE {quote('created_day')} = %s "
        f"AND {value} IS NOT NULL AND {created_at} >= %s AND {created_at} < %s"
    )
    union = f"{rest} UNION ALL {rest} UNION ALL {main}"
    moment = ops.adapt_datetimefield_value
    params = [moment(start), moment(start_walked), moment(end_walked), moment(end)]
    params += [ops.adapt_datefield_value(walked), moment(start_walked), moment(end_walked)]

    def fetch(descending: bool, offset: int) -> list[float]:
        with connection.cursor() as cursor:
            cursor.execute(f"{union} ORDER BY 1 {'DESC' if descending else 'ASC'} LIMIT 2 OFFSET %s", [*params, offset])
            return [row[0] for row in cursor.fetchall()]

    return fetch


def _arms(period: Period, grouping_name: str | None, key: Any, every: bool) -> list[QuerySet]:
    rows = rows_of(grouping_name) if every else rows_in(period, grouping_name)
    return [rows if grouping_name is None else rows.filter(**{COLUMNS[grouping_name]: key})]


def walk_minutes(
    period: Period, grouping_name: str | None, rows: dict[Any, dict], figures: Iterable[str], scope: str
) -> None:
    """Complete each row of `rows` (keyed by group, with `n_<figure>` counts) with `<figure>_median` / `_p90`;
    `scope` (`walk_scope`): unless "range", walk the (group, value) index even where the planner would sort."""
    for key, row in rows.items():
        if grouping_name == "day":
            for figure in figures:
                row[f"{figure}_median"], row[f"{figure}_p90"] = interpolated(
                    _day_fetcher(period, key, figure), row[f"n_{figure}"]
                )
            continue
        arms = _arms(period, grouping_name, key, every=scope == "all")
        for figure in figures:
            walk = scope != "range" and len(arms) == 1
            index = _walk_index(grouping_name, figure) if walk else None
            row[f"{figure}_median"], row[f"{figure}_p90"] = interpolated(
                _fetcher(arms, figure, index), row[f"n_{figure}"]
            )

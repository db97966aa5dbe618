"""PostgreSQL: the index walks of `reports.walks` (docs/reports.md "Percentiles") batched into one statement.

Over a wide period a percentile is cheaper read from a `(group, value)` index than sorted: `ORDER BY value LIMIT 2
OFFSET k` passes k index entries of an index-only scan, and the walks of the median and p90 (the latter from the top)
pass about 0.6 of a figure's values where percentile_cont sorts all of them. One report needs a walk per group,
figure and fraction (some 200 for twenty agents and the total); sent one by one, their round trips would cost more
than the walks, and one subquery per walk cost more to plan (0.9 s for a 90-day `day` report), so they go as one
statement: per grouping, figure and direction a `LATERAL` subquery over a `VALUES` list of (walk, key, offset),
planned once, and a plain subquery for each walk of the total or of the group without a key; each is ordered like the
index it should read (`ORDER BY team_id, first_response_minutes` also for `team_id IS NULL`, so the planner takes
that index rather than filtering another). The tag grouping's walks read the tag rows (`ReportTagRow`, indexes
`rtr_<figure>` on `(tag, value, created_at)`), the others' and the total's the report rows. Local days: `_daily`. The positions and the interpolation are those of `reports.walks.interpolated`, run twice: once
to record the walks it asks for, once to interpolate their values, so both backends compute the same figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection

from reports.models import ReportRow, ReportTagRow
from reports.periods import Period
from reports.walks import COLUMNS, interpolated
from reports.walks import day_bounds as _day_bounds

Walk = tuple[str | None, Any, str, bool, int]  # (grouping, key, figure, descending, offset)


def _model(grouping_name: str | None) -> type[ReportRow] | type[ReportTagRow]:
    """The rows a grouping's walks read: the tag rows (indexes `rtr_<figure>`, `(tag, value, created_at)`) for tag,
    else the report rows."""
    return ReportTagRow if grouping_name == "tag" else ReportRow


def _quoted(grouping_name: str | None = None) -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    return quote(_model(grouping_name)._meta.db_table), quote("created_at"), quote("created_day")


def _single(index: int, walk: Walk, bounds: bool) -> tuple[str, list]:
    """One walk of the total, or of a group without a key (`IS NULL`), as its own subquery."""
    grouping_name, key, figure, descending, offset = walk
    table, created_at, _ = _quoted(grouping_name)
    value = connection.ops.quote_name(figure)
    direction = "DESC" if descending else "ASC"
    where, order = [f"{value} IS NOT NULL"], [f"{value} {direction}"]
    if grouping_name is not None:
        column = connection.ops.quote_name(COLUMNS[grouping_name])
        where.insert(0, f"{column} IS NULL")
        order.insert(0, f"{column} {direction}")
    if bounds:
        where.append(f"{created_at} >= %s AND {created_at} < %s")
    sql = (
        f"(SELECT {index} AS r_walk, r_value FROM (SELECT {value} AS r_value FROM {table} WHERE {' AND '.join(where)} "
        f"ORDER BY {', '.join(order)} LIMIT 2 OFFSET {int(offset)}) AS r_walk_{index})"
    )
    return sql, []


def _keyed(walks: list[tuple[int, Walk]], bounds: bool) -> tuple[str, list]:
    """The walks of one grouping, figure and direction over keyed groups: a VALUES list of (walk, key, offset) and
    one LATERAL subquery, planned once for all of them."""
    grouping_name, _, figure, descending, _ = walks[0][1]
    table, created_at, _ = _quoted(grouping_name)
    value = connection.ops.quote_name(figure)
    column_name = COLUMNS[grouping_name]
    column = connection.ops.quote_name(column_name)
    key_type = _model(grouping_name)._meta.get_field(column_name.removesuffix("_id")).db_type(connection)
    direction = "DESC" if descending else "ASC"
    rows = ", ".join(f"(%s::integer, %s::{key_type}, %s::bigint)" for _ in walks)
    params = [param for index, walk in walks for param in (index, walk[1], walk[4])]
    within = f" AND {created_at} >= %s AND {created_at} < %s" if bounds else ""
    sql = (
        f"(SELECT p.r_walk, x.r_value FROM (VALUES {rows}) AS p(r_walk, r_key, r_offset) CROSS JOIN LATERAL "
        f"(SELECT {value} AS r_value FROM {table} WHERE {column} = p.r_key AND {value} IS NOT NULL{within} "
        f"ORDER BY {column} {direction}, {value} {direction} OFFSET p.r_offset LIMIT 2) AS x)"
    )
    return sql, params


def _rest_counts(days: Iterable[dt.date], figures: Iterable[str], period: Period) -> dict[tuple, int]:
    """|A| of `_daily` for each local day and figure: the values of the day outside its walked UTC date (two
    `created_at` ranges of `rr_created_n`, which holds the figures), counted in one statement for every day and
    figure rather than once per walk (eight walks a day)."""
    days, figures = sorted(set(days)), list(dict.fromkeys(figures))
    if not days:
        return {}
    table, created_at, _ = _quoted()
    values = [connection.ops.quote_name(figure) for figure in figures]
    rows, params = [], []
    for day in days:
        start, end, _, start_walked, end_walked = _day_bounds(day, period)
        rows.append("(%s::date, %s::timestamptz, %s::timestamptz, %s::timestamptz, %s::timestamptz)")
        params += [day, start, end, start_walked, end_walked]
    columns = ", ".join(values)
    sql = (
        f"SELECT p.r_day, {', '.join(f'COUNT({value})' for value in values)} FROM (VALUES {', '.join(rows)}) AS "
        f"p(r_day, r_start, r_end, r_from, r_until) CROSS JOIN LATERAL (SELECT {columns} FROM {table} WHERE "
        f"{created_at} >= p.r_start AND {created_at} < p.r_from UNION ALL SELECT {columns} FROM {table} WHERE "
        f"{created_at} >= p.r_until AND {created_at} < p.r_end) AS a GROUP BY p.r_day"
    )
    counts = {(day, figure): 0 for day in days for figure in figures}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for day, *found in cursor.fetchall():
            counts.update({(day, figure): count for figure, count in zip(figures, found)})
    return counts


def _daily(walks: list[tuple[int, Walk]], period: Period, rest_counts: dict[tuple, int]) -> tuple[str, list]:
    """The walks of local days for one figure and direction. A local day's rows lie on one to three UTC dates, each
    an ordered range of the index `(created_day, value, created_at)`; PostgreSQL does not merge such ranges in
    order (it sorts them all), so the date holding most of the day (B) is walked and the rest of the day (A, an hour
    or two in most zones: the moments before and after B's part, two `created_at` ranges of `rr_created_n`, which
    holds the figures) is read whole: the k-th value of A and B is the (k - s)-th of A merged with B's values from
    position s = max(0, k - |A|) to k + 1, since each of B's first s values has at most s - 1 + |A| < k values
    before it (and each past k + 1 at least k + 2). |A| comes from `_rest_counts` (same snapshot)."""
    _, _, figure, descending, _ = walks[0][1]
    table, created_at, created_day = _quoted()
    value = connection.ops.quote_name(figure)
    direction = "DESC" if descending else "ASC"
    params: list = []
    for index, (_, day, _, _, offset) in walks:
        params += [index, *_day_bounds(day, period), offset, rest_counts[(day, figure)]]
    rows = ", ".join(
        "(%s::integer, %s::timestamptz, %s::timestamptz, %s::date, %s::timestamptz, %s::timestamptz, %s::bigint, "
        "%s::bigint)"
        for _ in walks
    )
    rest = (
        f"SELECT {value} AS r_value FROM {table} WHERE {created_at} >= p.r_start AND {created_at} < p.r_from "
        f"AND {value} IS NOT NULL UNION ALL SELECT {value} FROM {table} WHERE {created_at} >= p.r_until "
        f"AND {created_at} < p.r_end AND {value} IS NOT NULL"
    )
    skip = "GREATEST(0, p.r_offset - p.r_count)"
    sql = (
        f"(SELECT p.r_walk, x.r_value FROM (VALUES {rows}) AS p(r_walk, r_start, r_end, r_walked, r_from, r_until, "
        f"r_offset, r_count) CROSS JOIN LATERAL "
        f"(SELECT r_value FROM ({rest} UNION ALL (SELECT {value} FROM {table} WHERE {created_day} = p.r_walked "
        f"AND {value} IS NOT NULL AND {created_at} >= p.r_from AND {created_at} < p.r_until "
        f"ORDER BY {created_day} {direction}, {value} {direction} OFFSET {skip} LIMIT p.r_offset + 2 - {skip})) AS u "
        f"ORDER BY r_value {direction} OFFSET p.r_offset - {skip} LIMIT 2) AS x)"
    )
    return sql, params


def _run(walks: list[Walk], period: Period, scope: str) -> list[list[float]]:
    """Each walk's (up to) two values, in its own order."""
    if not walks:
        return []
    bounds = scope != "all"
    parts, params = [], []
    batches: dict[tuple, list[tuple[int, Walk]]] = {}
    for index, walk in enumerate(walks):
        grouping_name, key, figure, descending, _ = walk
        if grouping_name is None or key is None:
            sql, walk_params = _single(index, walk, bounds)
            parts.append(sql)
            params += walk_params + ([period.start, period.end] if bounds else [])
        else:
            batches.setdefault((grouping_name, figure, descending), []).append((index, walk))
    daily = [walk for (grouping_name, _, _), batch in batches.items() if grouping_name == "day" for walk in batch]
    rest_counts = _rest_counts((walk[1] for _, walk in daily), (walk[2] for _, walk in daily), period)
    for (grouping_name, _, _), batch in batches.items():
        if grouping_name == "day":
            sql, batch_params = _daily(batch, period, rest_counts)
        else:
            sql, batch_params = _keyed(batch, bounds)
            batch_params += [period.start, period.end] if bounds else []
        parts.append(sql)
        params += batch_params
    found: list[list[float]] = [[] for _ in walks]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for index, value in cursor.fetchall():
            found[index].append(value)
    # The rows of one walk are two neighbours of its order: sorting them restores it, whatever order UNION ALL gave.
    return [sorted(values, reverse=walk[3]) for values, walk in zip(found, walks)]


def walk_minutes_batched(
    period: Period, targets: Iterable[tuple[str | None, dict[Any, dict]]], figures: Iterable[str], scope: str
) -> None:
    """Complete each row of each target (grouping name or None for the total, rows keyed by group with `n_<figure>`
    counts) with `<figure>_median` / `_p90`, walking in one statement. `scope` "all": no creation bounds (the period
    holds every row)."""
    targets, figures = list(targets), list(figures)
    walks: list[Walk] = []

    def recorder(grouping_name: str | None, key: Any, figure: str):
        def fetch(descending: bool, offset: int) -> list[float]:
            walks.append((grouping_name, key, figure, descending, offset))
            return [0.0, 0.0]

        return fetch

    for grouping_name, rows in targets:
        for key, row in rows.items():
            for figure in figures:
                interpolated(recorder(grouping_name, key, figure), row[f"n_{figure}"])
    results = iter(_run(walks, period, scope))

    def replay(descending: bool, offset: int) -> list[float]:
        return next(results)

    for _, rows in targets:
        for row in rows.values():
            for figure in figures:
                row[f"{figure}_median"], row[f"{figure}_p90"] = interpolated(replay, row[f"n_{figure}"])

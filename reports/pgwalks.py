"""PostgreSQL: the index walks of `reports.walks` (docs/reports.md "Percentiles") batched into one statement.

Over a wide period a percentile is cheaper read from a `(group, value)` index than sorted: `ORDER BY value LIMIT 2
OFFSET k` passes k index entries of an index-only scan, and the walks of the median and p90 (the latter from the top)
pass about 0.6 of a figure's values where percentile_cont sorts all of them. One report needs a walk per group,
figure and fraction (some 200 for twenty agents and the total); sent one by one, their round trips would cost more
than the walks, so they go as one `UNION ALL` of limited subqueries, each ordered like the index it should read
(`ORDER BY team_id, first_response_minutes` also for `team_id IS NULL`, so the planner takes that index rather than
filtering another). The positions and the interpolation are those of `reports.walks.interpolated`, run twice: once
to record the walks it asks for, once to interpolate their values, so both backends compute the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

from reports.models import ReportRow
from reports.periods import Period
from reports.walks import COLUMNS, interpolated

Walk = tuple[str | None, Any, str, bool, int]  # (grouping, key, figure, descending, offset)


def _subquery(index: int, walk: Walk, bounds: bool) -> tuple[str, list]:
    grouping_name, key, figure, descending, offset = walk
    quote = connection.ops.quote_name
    value = quote(figure)
    direction = "DESC" if descending else "ASC"
    where, params, order = [f"{value} IS NOT NULL"], [], [f"{value} {direction}"]
    if grouping_name is not None:
        column = quote(COLUMNS[grouping_name])
        where.insert(0, f"{column} IS NULL" if key is None else f"{column} = %s")
        params += [] if key is None else [key]
        order.insert(0, f"{column} {direction}")
    if bounds:
        where.append(f"{quote('created_at')} >= %s AND {quote('created_at')} < %s")
    sql = (
        f"(SELECT {index} AS r_walk, r_value FROM (SELECT {value} AS r_value FROM "
        f"{quote(ReportRow._meta.db_table)} WHERE {' AND '.join(where)} ORDER BY {', '.join(order)} "
        f"LIMIT 2 OFFSET {int(offset)}) AS r_walk_{index})"
    )
    return sql, params


def _run(walks: list[Walk], period: Period, scope: str) -> list[list[float]]:
    """Each walk's (up to) two values, in its own order."""
    if not walks:
        return []
    bounds = scope != "all"
    parts, params = [], []
    for index, walk in enumerate(walks):
        sql, walk_params = _subquery(index, walk, bounds)
        parts.append(sql)
        params += walk_params + ([period.start, period.end] if bounds else [])
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

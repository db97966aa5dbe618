"""The conversation report of docs/reports.md (`GET /api/analytics/conversations/`): per group and in total, conversations
created in the period, resolved, reopened, first response and resolution minutes (median, p90), CSAT and SLA.

One grouped aggregate query over the report rows (`reports.models.ReportRow`, one narrow row per conversation kept
by `reports.rows`; per tag `ReportTagRow`, one per conversation and tag, grouped by tag id and shown by tag name)
counts conversations, resolutions, reopens, SLA targets and breaches and CSAT answers per group (`group_by=day` on
SQLite: one covering range per local day); the latest CSAT comments come from the answered surveys. When each
conversation falls in exactly one group (every grouping but tag) the total's counts are the sums of the groups'; tag
sums its total from the tag rows flagged `in_total` (one per conversation), grouped in the same pass. Percentiles: PostgreSQL computes them with `percentile_cont` in the grouped query over a
narrow period (both fractions from one sort) and by the batched index walks of `reports.pgwalks` over a wide one;
SQLite has no such aggregate, so there each median and p90 is read by walking an index in
value order (`reports.walks`: `ORDER BY value LIMIT 2 OFFSET k`) and interpolated as percentile_cont does (linear).
Nothing loads conversation objects.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DateTimeField, F, Func, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import RowNumber

from conversations.models import Conversation, Survey, Tag
from reports.facts import PercentilesCont
from reports.groupings import GROUPINGS, Grouping, LocalDate, key_text, keyed
from reports.models import ReportRow
from reports.periods import Period, local_midnight
from reports.pgwalks import walk_minutes_batched
from reports.walks import COLUMNS as ROW_COLUMNS
from reports.walks import rows_in, walk_minutes, walk_scope

MINUTE_FIGURES = (
    "first_response_minutes",
    "resolution_minutes",
    "first_response_business_minutes",
    "resolution_business_minutes",
)
PERCENTILES = (0.5, 0.9)
SATISFIED_SCORE = 4  # CSAT satisfied = a score of 4 or 5 (counted per report row: reports.rows)
CSAT_COUNTS = ("answered", "score_sum", "satisfied", "commented")  # summed from ReportRow.csat_<name>
COMMENTS_PER_GROUP = 5  # the latest CSAT comments shown per group (their count is `commented`)
# What a one-per-conversation grouping's total sums from its groups: the counts and each figure's count of values.
COUNTED_WITH_VALUES = (
    "created",
    "resolved",
    "reopened",
    "targets",
    "breached",
    *CSAT_COUNTS,
    *(f"n_{figure}" for figure in MINUTE_FIGURES),
)


def conversations_in(period: Period) -> QuerySet:
    """Conversations created in the period (a conversation counts in the period of its creation)."""
    return Conversation.objects.filter(created_at__gte=period.start, created_at__lt=period.end)


def _uses_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


def _row_key(grouping: Grouping | None, period: Period):
    """The group key over `ReportRow` (the same groups as `grouping.key` over conversations)."""
    if grouping is None:
        return Value(0)
    if grouping.name in ROW_COLUMNS:
        return F(ROW_COLUMNS[grouping.name])
    if grouping.name == "day":
        return LocalDate("created_at", period)
    return grouping.key("conversation__", period)


def _conversation_counts(
    period: Period, grouping: Grouping | None, sort: bool | None = None, by_total: bool = False
) -> tuple[QuerySet, dict[Any, dict]]:
    """The period's report rows keyed by the grouping (with their minute figures as `r_<figure>`) and the grouped
    counts, with each figure's count of values (`n_<figure>`); with `sort` (default: on PostgreSQL) the percentiles
    instead (percentile_cont in the same query). `by_total` (tag rows, without `sort`): grouped by (key, `in_total`),
    keyed by both."""
    sort = _uses_percentile_cont() if sort is None else sort
    facts = (
        rows_in(period, grouping and grouping.name)
        .annotate(r_key=_row_key(grouping, period), **{f"r_{figure}": F(figure) for figure in MINUTE_FIGURES})
        .order_by()
    )
    aggregates = {
        # Columns of the covering indexes: SQLite reads COUNT(conversation_id) from the table rows.
        "created": Count("*"),
        "resolved": Count("resolved", filter=Q(resolved=True)),
        "reopened": Count("reopened", filter=Q(reopened=True)),
        "targets": Sum("sla_targets", default=0),
        "breached": Sum("sla_breached", default=0),
        **{name: Sum(f"csat_{name}", default=0) for name in CSAT_COUNTS},
    }
    if sort:
        for figure in MINUTE_FIGURES:
            aggregates[f"{figure}_points"] = PercentilesCont(f"r_{figure}", PERCENTILES)
    else:
        aggregates.update({f"n_{figure}": Count(figure) for figure in MINUTE_FIGURES})
    if grouping is not None and grouping.name == "day" and not _uses_percentile_cont():
        rows = _daily_counts(period, aggregates)
    elif grouping is not None and grouping.name == "day" and not sort:
        with _index_only():
            rows = _daily_counts_lateral(period, aggregates)
    elif by_total:
        # Grouped in the order of the covering index `rtr_n` (tag, in_total, ...): on PostgreSQL an index-only scan
        # into a sorted group aggregate (0.25 s of CPU at 1,166,848 tag rows, against 0.43 s for the planner's
        # choice, a scan of the table into a hash of the groups).
        split = facts.annotate(r_total=F("in_total")).values("r_key", "r_total").annotate(**aggregates)
        with _index_only() if _uses_percentile_cont() else nullcontext():
            rows = {(row.pop("r_key"), row.pop("r_total")): row for row in split}
    else:
        # Without sorts (a wide period on PostgreSQL) the group's covering count index too (`rr_<group>_n`, the CSAT
        # counts among its columns since migration 0011): 0.20 s of CPU for agent at 1,000,000 rows against 0.28 s
        # for the planner's scan of the table.
        indexed = not sort and grouping is not None and _uses_percentile_cont()
        with _index_only() if indexed else nullcontext():
            rows = {row.pop("r_key"): row for row in facts.values("r_key").annotate(**aggregates)}
    if sort:
        for row in rows.values():
            for figure in MINUTE_FIGURES:
                row[f"{figure}_median"], row[f"{figure}_p90"] = row.pop(f"{figure}_points") or (None, None)
    return facts, rows


def _counts_with_total(period: Period, grouping: Grouping) -> tuple[dict[Any, dict], dict[Any, dict]]:
    """Without percentile_cont: the grouped counts (with `n_<figure>`) and the total's (keyed 0, absent when the
    period is empty), in one pass over the rows. When each conversation is in exactly one group the total is the sum
    of the groups; tag counts its groups and its total in the same pass over the tag rows, grouped by tag and
    `in_total` (one row of each conversation is in the total: docs/reports.md "Tag rows")."""
    if grouping.one_per_conversation:
        rows = _conversation_counts(period, grouping, sort=False)[1]
        return rows, ({0: _summed(rows.values(), COUNTED_WITH_VALUES)} if rows else {})
    split = _conversation_counts(period, grouping, sort=False, by_total=True)[1]
    rows: dict[Any, dict] = {}
    for (key, _), row in split.items():
        rows[key] = _summed([rows.get(key, {}), row], COUNTED_WITH_VALUES)
    in_total = [row for (_, counted), row in split.items() if counted]
    return rows, ({0: _summed(in_total, COUNTED_WITH_VALUES)} if in_total else {})


@contextmanager
def _index_only() -> Iterator[None]:
    """PostgreSQL, the grouped counts of a wide period: each local day's range read from `rr_created_n`, each other
    grouping's groups from its covering count index (`rr_<group>_n`, tag: `rtr_n`) by an index-only scan (they hold
    every column the counts read), with `enable_seqscan` and `enable_bitmapscan` off for that one statement
    (`set_config(..., true)`, restored after). The index-only scans need the visibility map, as the walks do."""
    names = ("enable_seqscan", "enable_bitmapscan")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(%s), current_setting(%s), set_config(%s, 'off', true), set_config(%s, 'off', true)",
            [*names, *names],
        )
        previous = cursor.fetchone()[:2]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                [names[0], previous[0], names[1], previous[1]],
            )


def _daily_statement(period: Period, aggregates: dict) -> tuple[str, list]:
    """The counts over one range of creation moments (its two bounds the statement's last two parameters)."""
    return (
        ReportRow.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .annotate(r_key=Value(0))
        .values("r_key")
        .annotate(**aggregates)
        .values(*aggregates)
        .query.sql_with_params()
    )


def _daily_counts_lateral(period: Period, aggregates: dict) -> dict[Any, dict]:
    """PostgreSQL, group_by=day over a wide period: each local day's counts over its own range of creation moments,
    in one statement (a VALUES list of (day, start, end) and a LATERAL aggregate over each range: an index-only
    range scan of `rr_created_n`), rather than a local date computed per row and a hash of a million rows."""
    sql, params = _daily_statement(period, aggregates)
    head, _, _ = sql.rpartition("%s")
    head, _, middle = head.rpartition("%s")
    lateral = f"{head}p.r_start{middle}p.r_end{sql.rpartition('%s')[2]}"
    days, values = [], []
    day = period.since
    while day <= period.until:
        following = day + dt.timedelta(days=1)
        days.append("(%s::date, %s::timestamptz, %s::timestamptz)")
        values += [day, local_midnight(day, period.zone), local_midnight(following, period.zone)]
        day = following
    names = list(aggregates)
    statement = (
        f"SELECT p.r_day, x.* FROM (VALUES {', '.join(days)}) AS p(r_day, r_start, r_end) "
        f"CROSS JOIN LATERAL ({lateral}) AS x"
    )
    rows = {}
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, *params[:-2]])
        for day, *found in cursor.fetchall():
            counts = dict(zip(names, found))
            if counts["created"]:
                rows[day] = counts
    return rows


def _daily_counts(period: Period, aggregates: dict) -> dict[Any, dict]:
    """SQLite, group_by=day: each local day's counts over its own range of creation moments (a covering index range
    per day), rather than a local-date expression per row and a sort of the period's rows to group them. The
    statement is compiled once and run per day with that day's bounds (its only parameters)."""
    ops = connection.ops
    rows = {}
    sql, params = _daily_statement(period, aggregates)
    names = list(aggregates)
    fixed = list(params[:-2])  # the WHERE's two bounds come last (the SELECT's defaults before them)
    day = period.since
    with connection.cursor() as cursor:
        while day <= period.until:
            following = day + dt.timedelta(days=1)
            start, end = local_midnight(day, period.zone), local_midnight(following, period.zone)
            cursor.execute(sql, [*fixed, ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)])
            for found in cursor.fetchall():
                counts = dict(zip(names, found))
                if counts["created"]:
                    rows[day] = counts
            day = following
    return rows


def _conversation_figures(period: Period, grouping: Grouping) -> tuple[dict[Any, dict], dict]:
    """The conversation figures per group and in total (the total keyed 0). Without percentile_cont (SQLite) the
    percentiles are index walks (`reports.walks`); the counts come with the total's (`_counts_with_total`).
    PostgreSQL: `_postgres_figures`."""
    if _uses_percentile_cont():
        return _postgres_figures(period, grouping)
    rows, total = _counts_with_total(period, grouping)
    scope = walk_scope(total[0]["created"]) if total else "range"
    walk_minutes(period, grouping.name, rows, MINUTE_FIGURES, scope)
    walk_minutes(period, None, total, MINUTE_FIGURES, scope)
    return _named(grouping, rows), total.get(0) or dict(EMPTY_COUNTS)


def _named(grouping: Grouping, rows: dict[Any, Any]) -> dict[Any, Any]:
    """Tag rows are keyed by the tag's id; the tag grouping's key is its name (unique)."""
    if grouping.name != "tag":
        return rows
    names = dict(Tag.objects.filter(pk__in=[key for key in rows if key is not None]).values_list("pk", "name"))
    return {None if key is None else names[key]: row for key, row in rows.items() if key is None or key in names}


def _postgres_figures(period: Period, grouping: Grouping) -> tuple[dict[Any, dict], dict]:
    """PostgreSQL: percentile_cont in the grouped queries over a narrow period (its sorts are small); over a wide one
    (`walk_scope`: at least a quarter of the rows) index walks as on SQLite (`reports.walks`), which read about 0.6
    of each figure's values in index order where percentile_cont sorts all of them, for the total and every grouping
    (tag: over the tag rows' indexes `(tag, value, created_at)`). Same figures either way (both interpolate
    linearly)."""
    scope = walk_scope(0, period)
    if scope == "range":
        rows = _conversation_counts(period, grouping)[1]
        total = _conversation_counts(period, None)[1]
        return _named(grouping, rows), total.get(0) or dict(EMPTY_COUNTS)
    rows, total = _counts_with_total(period, grouping)
    walk_minutes_batched(period, [(None, total), (grouping.name, rows)], MINUTE_FIGURES, scope)
    return _named(grouping, rows), total.get(0) or dict(EMPTY_COUNTS)


class Unindexed(Func):
    """SQLite: `+column`, the same value without the column's index, so the planner reads the (few) answered surveys
    and looks their conversation up, rather than every conversation of the period and its surveys."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(+%(expressions)s)", **extra)


def _answered_surveys(period: Period) -> QuerySet:
    created = Unindexed(F("conversation__created_at"), output_field=DateTimeField())
    return Survey.objects.alias(r_created=created).filter(
        r_created__gte=period.start, r_created__lt=period.end, score__isnull=False
    )


def _csat_of(counts: dict, comments: list[dict]) -> dict:
    """A group's CSAT figures from its summed report row counts, and its latest comments."""
    csat: dict[str, Any] = {name: counts.get(name, 0) for name in CSAT_COUNTS}
    csat["average"] = csat["score_sum"] / csat["answered"] if csat["answered"] else None
    csat["comments"] = comments
    return csat


def _latest(comments: Iterable[dict]) -> list[dict]:
    """The newest COMMENTS_PER_GROUP comments: answered_at descending (none last), then the survey descending."""
    by_survey = sorted(comments, key=lambda comment: comment["survey"], reverse=True)
    dated = sorted((row for row in by_survey if row["moment"]), key=lambda row: row["moment"], reverse=True)
    return (dated + [row for row in by_survey if not row["moment"]])[:COMMENTS_PER_GROUP]


COMMENT_FIELDS = ("r_key", "r_rank", "pk", "conversation_id", "score", "comment", "answered_at")


def _comment_rows(period: Period, grouping: Grouping | None) -> Iterable[dict]:
    """The commented answered surveys ranked within their group (newest first), the first COMMENTS_PER_GROUP of each."""
    if _uses_percentile_cont():  # tag: keyed by the tag's id (`_csat_comments` names them)
        return _comment_rows_by_report_row(period, grouping)
    surveys = keyed(_answered_surveys(period).exclude(comment=""), grouping, period, prefix="conversation__")
    latest = surveys.annotate(
        r_rank=Window(
            RowNumber(), partition_by=[F("r_key")], order_by=[F("answered_at").desc(nulls_last=True), F("pk").desc()]
        )
    )
    return latest.filter(r_rank__lte=COMMENTS_PER_GROUP).values(*COMMENT_FIELDS).order_by()


def _comment_rows_by_report_row(period: Period, grouping: Grouping | None) -> list[dict]:
    """PostgreSQL: the same rows with the period and the group key read from the report rows that have a comment
    (`csat_commented`; tag: the tag rows, keyed by tag id), joined to their surveys, rather than from every
    conversation of the period joined to its facts (at 1,000,000 conversations the latter read the whole
    conversation table: 0.8 s)."""
    commented = (
        rows_in(period, grouping and grouping.name)
        .filter(csat_commented__gt=0)
        .annotate(r_key=_row_key(grouping, period))
        .values("conversation_id", "r_key")
    )
    rows_sql, params = commented.query.sql_with_params()
    quote = connection.ops.quote_name
    survey = quote(Survey._meta.db_table)
    sql = (
        f"SELECT * FROM (SELECT r.r_key, ROW_NUMBER() OVER (PARTITION BY r.r_key ORDER BY s.answered_at DESC NULLS "
        f"LAST, s.id DESC) AS r_rank, s.id, s.conversation_id, s.score, s.comment, s.answered_at FROM {survey} s "
        f"JOIN ({rows_sql}) r(r_conversation, r_key) ON s.conversation_id = r.r_conversation "
        f"WHERE s.score IS NOT NULL AND s.comment <> '') ranked WHERE r_rank <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, COMMENTS_PER_GROUP])
        return [dict(zip(COMMENT_FIELDS, found)) for found in cursor.fetchall()]


def _csat_comments(period: Period, grouping: Grouping | None) -> dict[Any, list[dict]]:
    """The latest COMMENTS_PER_GROUP comments of each group (newest first), in one window query."""
    found: dict[Any, list[dict]] = defaultdict(list)
    for row in _comment_rows(period, grouping):
        found[row["r_key"]].append(row)
    if grouping is not None and _uses_percentile_cont():
        found = _named(grouping, found)
    return {
        key: [
            {
                "survey": row["pk"],
                "moment": row["answered_at"],
                "conversation": row["conversation_id"],
                "score": row["score"],
                "comment": row["comment"],
                "answered_at": row["answered_at"].isoformat() if row["answered_at"] else None,
            }
            for row in sorted(rows, key=lambda row: row["r_rank"])
        ]
        for key, rows in found.items()
    }


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _row(counts: dict, csat: dict | None, sla: dict | None) -> dict:
    """One row's figures in the SPEC shape (without key and label)."""
    csat, sla = csat or {}, sla or {}
    answered = csat.get("answered", 0)
    return {
        "created": counts["created"],
        "resolved": counts["resolved"],
        "reopened": counts["reopened"],
        **{
            figure: {"median": _minutes(counts[f"{figure}_median"]), "p90": _minutes(counts[f"{figure}_p90"])}
            for figure in MINUTE_FIGURES
        },
        "csat": {
            "answered": answered,
            "average": round(csat["average"], 2) if answered else None,
            "satisfied_share": round(csat["satisfied"] / answered, 4) if answered else None,
            "commented": csat.get("commented", 0),
            "comments": [
                {name: value for name, value in comment.items() if name not in ("survey", "moment")}
                for comment in csat.get("comments", [])
            ],
        },
        "sla": {"targets": sla.get("targets", 0), "breached": sla.get("breached", 0)},
    }


def _figures(period: Period, grouping: Grouping) -> tuple[dict[Any, dict], dict]:
    """Every figure per group, and in total. The SLA and CSAT counts come with the conversation counts (summed from
    the report rows); the latest comments from the surveys. When each conversation is in exactly one group, the
    total's counts are the sums of the groups' (no second pass over the period); its percentiles are not. Every
    conversation of the period is in at least one group (tag: "No tag" for those without), so the newest comments
    overall are among the newest of their groups: the total's are the latest of the groups' for every grouping
    (a survey of a conversation with two tags counted once)."""
    counts, total_counts = _conversation_figures(period, grouping)
    comments = _csat_comments(period, grouping)
    total_comments = _latest({comment["survey"]: comment for rows in comments.values() for comment in rows}.values())
    per_group = {key: _row(row, _csat_of(row, comments.get(key, [])), row) for key, row in counts.items()}
    return per_group, _row(total_counts, _csat_of(total_counts, total_comments), total_counts)


def _summed(rows: Iterable[dict], names: Iterable[str]) -> dict[str, int]:
    return {name: sum(row.get(name, 0) for row in rows) for name in names}


def _sort_key(grouping: Grouping):
    if grouping.name == "day":
        return lambda row: row["key"]
    return lambda row: (row["key"] is None, -row["created"], row["label"].lower())


EMPTY_COUNTS = {
    "created": 0,
    "resolved": 0,
    "reopened": 0,
    **{f"{figure}_{point}": None for figure in MINUTE_FIGURES for point in ("median", "p90")},
}


@contextmanager
def _report_transaction() -> Iterator[None]:
    """PostgreSQL: the report's queries in one transaction without JIT compilation: the planner's costs at a million
    rows cross `jit_above_cost`, and compiling took 0.13-0.4 s per statement for nothing (`SET LOCAL`: until the end
    of the transaction, the caller's if any). When it is the outermost transaction, REPEATABLE READ: one snapshot
    for the counts and the walks, so a conversation created meanwhile cannot shift the positions the walks read
    (they are computed from the counts)."""
    if not _uses_percentile_cont():
        yield
        return
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if outermost:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT set_config('jit', 'off', true)")
        yield


def conversation_report(*, period: Period, group_by: str) -> dict:
    """`{"rows": [{"key", "label", <figures>}...], "total": {<figures>}}` for conversations created in `period`."""
    grouping = GROUPINGS[group_by]
    with _report_transaction():
        per_group, total = _figures(period, grouping)
    labels = grouping.labels(per_group.keys())
    rows = [
        {"key": key_text(key), "label": grouping.none_label if key is None else labels.get(key, f"#{key}"), **figures}
        for key, figures in per_group.items()
    ]
    return {"rows": sorted(rows, key=_sort_key(grouping)), "total": total}

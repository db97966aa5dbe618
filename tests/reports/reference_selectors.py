# The plain reference of tests/reports/test_report_rows.py: reports/selectors.py as it was before the report rows
# (commit 8456db0: joins of conversations and their facts, SQL expressions per row, window ranks on SQLite), unchanged.
"""The conversation report of docs/reports.md (`GET /api/analytics/conversations/`): per group and in total, conversations
created in the period, resolved, reopened, first response and resolution minutes (median, p90), CSAT and SLA.

Three grouped aggregate queries do the counting in the database: conversations (joined to their
`ConversationFacts`, see `reports.facts`), answered surveys and SLA target rows, each keyed by the same group expression
(`reports.groupings`). When each conversation falls in exactly one group (every grouping but tag) the total's counts,
CSAT and SLA figures are the sums of the groups'; tag computes its total with the same queries unkeyed.
Percentiles: PostgreSQL computes them with `percentile_cont` in the grouped query (both fractions from one sort);
SQLite has no such aggregate, so there one statement ranks each figure's values per group and over the total
(ROW_NUMBER and COUNT over one window) and returns only the rows around each median and p90 position, interpolated
here the same way (linear, as percentile_cont). Nothing loads conversation objects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from conversations.models import Conversation, Survey
from reports.facts import PercentilesCont, reopened, resolved, with_facts
from reports.groupings import GROUPINGS, Grouping, key_text, keyed
from reports.periods import Period
from sla.models import SlaTarget, TargetState

MINUTE_FIGURES = (
    "first_response_minutes",
    "resolution_minutes",
    "first_response_business_minutes",
    "resolution_business_minutes",
)
PERCENTILES = (0.5, 0.9)
SATISFIED_SCORE = 4  # CSAT satisfied = a score of 4 or 5
COMMENTS_PER_GROUP = 5  # the latest CSAT comments shown per group (their count is `commented`)


def conversations_in(period: Period) -> QuerySet:
    """Conversations created in the period (a conversation counts in the period of its creation)."""
    return Conversation.objects.filter(created_at__gte=period.start, created_at__lt=period.end)


def _uses_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


def _conversation_counts(period: Period, grouping: Grouping | None) -> tuple[QuerySet, dict[Any, dict]]:
    """The period's conversations keyed by the grouping (with their minute figures) and the grouped counts; on
    PostgreSQL the percentiles too (percentile_cont in the same query)."""
    facts = keyed(with_facts(conversations_in(period)), grouping, period).order_by()
    aggregates = {
        "created": Count("pk"),
        "resolved": Count("pk", filter=resolved()),
        "reopened": Count("pk", filter=reopened()),
    }
    if _uses_percentile_cont():
        for figure in MINUTE_FIGURES:
            aggregates[f"{figure}_points"] = PercentilesCont(f"r_{figure}", PERCENTILES)
    rows = {row.pop("r_key"): row for row in facts.values("r_key").annotate(**aggregates)}
    if _uses_percentile_cont():
        for row in rows.values():
            for figure in MINUTE_FIGURES:
                row[f"{figure}_median"], row[f"{figure}_p90"] = row.pop(f"{figure}_points") or (None, None)
    return facts, rows


def _conversation_figures(period: Period, grouping: Grouping) -> tuple[dict[Any, dict], dict]:
    """The conversation figures per group and in total (the total keyed 0). Without percentile_cont (SQLite) the
    percentiles of the groups and of the total come from one ranked query over the period's rows (`_ranked_sql`);
    a grouping that may count a conversation in several groups (tag) ranks its total over its own rows."""
    facts, rows = _conversation_counts(period, grouping)
    if _uses_percentile_cont():
        total = _conversation_counts(period, None)[1]
    elif grouping.one_per_conversation:
        total = {0: _summed(rows.values(), ("created", "resolved", "reopened"))} if rows else {}
        _interpolate_minutes([(facts, rows, True), (facts, total, False)])
    else:
        total_facts, total = _conversation_counts(period, None)
        _interpolate_minutes([(facts, rows, True), (total_facts, total, False)])
    return rows, total.get(0) or dict(EMPTY_COUNTS)


def _ranked_arms(scope: int, base: str, by_key: bool) -> str:
    """One arm per minute figure: the figure's non-null values over the period's rows (the materialised CTE
    `base`), numbered in order within each group (or over all rows for a total) with the count
    of the same window (one sort per figure), keeping only the rows around the median and p90 positions."""
    arms = []
    for index, figure in enumerate(MINUTE_FIGURES):
        value = f"r_{figure}"
        wanted = " OR ".join(
            f"(r_rank - 1 BETWEEN CAST((r_count - 1) * {fraction} AS INTEGER) "
            f"AND CAST((r_count - 1) * {fraction} AS INTEGER) + 1)"
            for fraction in PERCENTILES
        )
        partition = "PARTITION BY r_key " if by_key else ""
        arms.append(
            f"SELECT {scope} AS r_scope, {index} AS r_figure, r_key, r_value, r_rank, r_count FROM ("
            f"SELECT {'r_key' if by_key else '0 AS r_key'}, {value} AS r_value, ROW_NUMBER() OVER w AS r_rank, "
            f"COUNT(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS r_count "
            f"FROM {base} WHERE {value} IS NOT NULL WINDOW w AS ({partition}ORDER BY {value})"
            f") WHERE {wanted}"
        )
    return " UNION ALL ".join(arms)


def _ranked_sql(targets: list[tuple[QuerySet, dict, bool]]) -> tuple[str, list]:
    """The rows at the interpolation positions of each group's (and the total's) median and p90, for every minute
    figure, in one statement.

    The period's rows with their key and minutes are materialised once per distinct queryset (a CTE: the key, e.g.
    the local day's CASE, is computed once per row, the conversation and facts tables are read once for the groups
    and the total); rows without any minute figure are left out. Each figure is then ranked over its non-null
    values only (`_ranked_arms`)."""
    values = [f"r_{figure}" for figure in MINUTE_FIGURES]
    ctes: list[str] = []
    arms: list[str] = []
    params: list = []
    bases: dict[int, str] = {}
    for scope, (facts, _, by_key) in enumerate(targets):
        if id(facts) not in bases:
            bases[id(facts)] = f"base{scope}"
            base_sql, base_params = facts.values("r_key", *values).query.sql_with_params()
            some = " OR ".join(f"{value} IS NOT NULL" for value in values)
            ctes.append(f"{bases[id(facts)]} AS MATERIALIZED (SELECT * FROM ({base_sql}) WHERE {some})")
            params += base_params
        arms.append(_ranked_arms(scope, bases[id(facts)], by_key))
    return f"WITH {', '.join(ctes)} {' UNION ALL '.join(arms)}", params


def _interpolate_minutes(targets: list[tuple[QuerySet, dict, bool]]) -> None:
    """Without percentile_cont (SQLite): fetch the rows around each group's median and p90 positions of every figure
    (`_ranked_sql`, one query for the groups and the total) and interpolate between them here, as percentile_cont
    does. `targets`: (keyed rows, the grouped counts to complete, ranked per key or over all rows)."""
    around: dict[tuple[int, str, Any], dict[int, float]] = defaultdict(dict)
    counts: dict[tuple[int, str, Any], int] = {}
    sql, params = _ranked_sql(targets)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for scope, index, key, value, rank, count in cursor.fetchall():
            facts, _, by_key = targets[scope]
            key = _db_key(facts, key) if by_key else 0
            figure = MINUTE_FIGURES[index]
            around[(scope, figure, key)][rank - 1] = value
            counts[(scope, figure, key)] = count
    for scope, (_, rows, _) in enumerate(targets):
        for key, row in rows.items():
            for figure in MINUTE_FIGURES:
                for fraction, point in zip(PERCENTILES, ("median", "p90")):
                    found = (scope, figure, key)
                    row[f"{figure}_{point}"] = _at(around.get(found, {}), counts.get(found, 0), fraction)


def _db_key(facts: QuerySet, key: Any) -> Any:
    """A key read by a raw cursor as the ORM reads it (a day comes back as text from SQLite)."""
    field = facts.query.annotations["r_key"].output_field
    converters = field.get_db_converters(connection) + connection.ops.get_db_converters(
        facts.query.annotations["r_key"]
    )
    for converter in converters:
        key = converter(key, facts.query.annotations["r_key"], connection)
    return key


def _at(values: dict[int, float], count: int, fraction: float) -> float | None:
    """Linear interpolation at `fraction` from the values at the positions around it (0-based)."""
    if not count:
        return None
    position = fraction * (count - 1)
    low = int(position)
    high = min(low + 1, count - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _answered_surveys(period: Period) -> QuerySet:
    return Survey.objects.filter(
        conversation__created_at__gte=period.start, conversation__created_at__lt=period.end, score__isnull=False
    )


def _csat_figures(period: Period, grouping: Grouping | None) -> dict[Any, dict]:
    keyed_surveys = keyed(_answered_surveys(period), grouping, period, prefix="conversation__").values("r_key")
    rows = {
        row.pop("r_key"): row
        for row in keyed_surveys.order_by().annotate(
            answered=Count("pk"),
            average=Avg("score"),
            score_sum=Sum("score"),
            satisfied=Count("pk", filter=Q(score__gte=SATISFIED_SCORE)),
            commented=Count("pk", filter=~Q(comment="")),
        )
    }
    for key, comments in _csat_comments(period, grouping).items():
        rows.setdefault(key, {})["comments"] = comments
    return rows


def _csat_total(per_group: dict[Any, dict]) -> dict:
    """The total of groups that count each survey once: sums, the average from them, the latest comments of all."""
    total: dict[str, Any] = {name: 0 for name in ("answered", "score_sum", "satisfied", "commented")}
    for row in per_group.values():
        for name in total:
            total[name] += row.get(name, 0)
    total["average"] = total["score_sum"] / total["answered"] if total["answered"] else None
    total["comments"] = _latest(comment for row in per_group.values() for comment in row.get("comments", []))
    return total


def _latest(comments: Iterable[dict]) -> list[dict]:
    """The newest COMMENTS_PER_GROUP comments: answered_at descending (none last), then the survey descending."""
    by_survey = sorted(comments, key=lambda comment: comment["survey"], reverse=True)
    dated = sorted((row for row in by_survey if row["moment"]), key=lambda row: row["moment"], reverse=True)
    return (dated + [row for row in by_survey if not row["moment"]])[:COMMENTS_PER_GROUP]


def _csat_comments(period: Period, grouping: Grouping | None) -> dict[Any, list[dict]]:
    """The latest COMMENTS_PER_GROUP comments of each group (newest first), in one window query."""
    surveys = keyed(_answered_surveys(period).exclude(comment=""), grouping, period, prefix="conversation__")
    latest = surveys.annotate(
        r_rank=Window(
            RowNumber(), partition_by=[F("r_key")], order_by=[F("answered_at").desc(nulls_last=True), F("pk").desc()]
        )
    )
    found: dict[Any, list[dict]] = defaultdict(list)
    for row in (
        latest.filter(r_rank__lte=COMMENTS_PER_GROUP)
        .values("r_key", "r_rank", "pk", "conversation_id", "score", "comment", "answered_at")
        .order_by()
    ):
        found[row["r_key"]].append(row)
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


def _sla_figures(period: Period, grouping: Grouping | None) -> dict[Any, dict]:
    targets = SlaTarget.objects.filter(
        conversation__created_at__gte=period.start, conversation__created_at__lt=period.end
    )
    keyed_targets = keyed(targets, grouping, period, prefix="conversation__").values("r_key").order_by()
    return {
        row.pop("r_key"): row
        for row in keyed_targets.annotate(
            targets=Count("pk"), breached=Count("pk", filter=Q(state=TargetState.BREACHED))
        )
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
    """Every figure per group, and in total. When each conversation is in exactly one group, the total's counts,
    CSAT and SLA figures are the sums of the groups' (no second pass over the period); its percentiles are not."""
    counts, total_counts = _conversation_figures(period, grouping)
    csat, sla = _csat_figures(period, grouping), _sla_figures(period, grouping)
    if grouping.one_per_conversation:
        total_csat, total_sla = _csat_total(csat), _summed(sla.values(), ("targets", "breached"))
    else:
        total_csat, total_sla = _csat_figures(period, None).get(0), _sla_figures(period, None).get(0)
    per_group = {key: _row(row, csat.get(key), sla.get(key)) for key, row in counts.items()}
    return per_group, _row(total_counts, total_csat, total_sla)


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


def conversation_report(*, period: Period, group_by: str) -> dict:
    """`{"rows": [{"key", "label", <figures>}...], "total": {<figures>}}` for conversations created in `period`."""
    grouping = GROUPINGS[group_by]
    per_group, total = _figures(period, grouping)
    labels = grouping.labels(per_group.keys())
    rows = [
        {"key": key_text(key), "label": grouping.none_label if key is None else labels.get(key, f"#{key}"), **figures}
        for key, figures in per_group.items()
    ]
    return {"rows": sorted(rows, key=_sort_key(grouping)), "total": total}

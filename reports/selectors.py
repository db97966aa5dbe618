"""The conversation report of SPEC §16 (`GET /api/analytics/conversations/`): per group and in total, conversations
created in the period, resolved, reopened, first response and resolution minutes (median, p90), CSAT and SLA.

Three grouped aggregate queries do the counting in the database: conversations (with the facts of
`reports.facts`), answered surveys and SLA target rows, each keyed by the same group expression
(`reports.groupings`). Percentiles: PostgreSQL computes them with `percentile_cont` in the same query; SQLite has no
such aggregate, so there one more query fetches the narrow (key, minutes, minutes) list and they are interpolated
here the same way. Nothing loads conversation objects.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Q, QuerySet

from conversations.models import Conversation, Survey
from reports.facts import PercentileCont, interpolated, with_facts
from reports.groupings import GROUPINGS, Grouping, key_text, keyed
from reports.periods import Period
from sla.models import SlaTarget, TargetState

MINUTE_FIGURES = ("first_response_minutes", "resolution_minutes")
SATISFIED_SCORE = 4  # CSAT satisfied = a score of 4 or 5


def conversations_in(period: Period) -> QuerySet:
    """Conversations created in the period (a conversation counts in the period of its creation)."""
    return Conversation.objects.filter(created_at__gte=period.start, created_at__lt=period.end)


def _uses_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


def _conversation_figures(period: Period, grouping: Grouping | None) -> dict[Any, dict]:
    facts = keyed(with_facts(conversations_in(period)), grouping, period.zone).order_by()
    aggregates = {
        "created": Count("pk"),
        "resolved": Count("pk", filter=Q(r_last_resolved__isnull=False)),
        "reopened": Count("pk", filter=Q(r_reopened=True)),
    }
    if _uses_percentile_cont():
        for figure in MINUTE_FIGURES:
            aggregates[f"{figure}_median"] = PercentileCont(f"r_{figure}", 0.5)
            aggregates[f"{figure}_p90"] = PercentileCont(f"r_{figure}", 0.9)
    rows = {row.pop("r_key"): row for row in facts.values("r_key").annotate(**aggregates)}
    if not _uses_percentile_cont():
        _interpolate_minutes(facts, rows)
    return rows


def _interpolate_minutes(facts: QuerySet, rows: dict[Any, dict]) -> None:
    """SQLite: fetch each conversation's (key, first response, resolution) minutes and interpolate per group."""
    values: dict[Any, dict[str, list[float]]] = defaultdict(lambda: {figure: [] for figure in MINUTE_FIGURES})
    for key, *minutes in facts.values_list("r_key", *(f"r_{figure}" for figure in MINUTE_FIGURES)).iterator(
            chunk_size=5000):
        for figure, value in zip(MINUTE_FIGURES, minutes):
            if value is not None:
                values[key][figure].append(value)
    for key, row in rows.items():
        for figure in MINUTE_FIGURES:
            ordered = sorted(values[key][figure])
            row[f"{figure}_median"] = interpolated(ordered, 0.5)
            row[f"{figure}_p90"] = interpolated(ordered, 0.9)


def _csat_figures(period: Period, grouping: Grouping | None) -> dict[Any, dict]:
    answered = Survey.objects.filter(conversation__created_at__gte=period.start,
                                     conversation__created_at__lt=period.end, score__isnull=False)
    keyed_surveys = keyed(answered, grouping, period.zone, prefix="conversation__").values("r_key").order_by()
    return {row.pop("r_key"): row for row in keyed_surveys.annotate(
        answered=Count("pk"), average=Avg("score"), satisfied=Count("pk", filter=Q(score__gte=SATISFIED_SCORE)))}


def _sla_figures(period: Period, grouping: Grouping | None) -> dict[Any, dict]:
    targets = SlaTarget.objects.filter(conversation__created_at__gte=period.start,
                                       conversation__created_at__lt=period.end)
    keyed_targets = keyed(targets, grouping, period.zone, prefix="conversation__").values("r_key").order_by()
    return {row.pop("r_key"): row for row in keyed_targets.annotate(
        targets=Count("pk"), breached=Count("pk", filter=Q(state=TargetState.BREACHED)))}


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
        **{figure: {"median": _minutes(counts[f"{figure}_median"]), "p90": _minutes(counts[f"{figure}_p90"])}
           for figure in MINUTE_FIGURES},
        "csat": {
            "answered": answered,
            "average": round(csat["average"], 2) if answered else None,
            "satisfied_share": round(csat["satisfied"] / answered, 4) if answered else None,
        },
        "sla": {"targets": sla.get("targets", 0), "breached": sla.get("breached", 0)},
    }


def _figures(period: Period, grouping: Grouping | None) -> dict[Any, dict]:
    counts = _conversation_figures(period, grouping)
    csat, sla = _csat_figures(period, grouping), _sla_figures(period, grouping)
    return {key: _row(row, csat.get(key), sla.get(key)) for key, row in counts.items()}


def _sort_key(grouping: Grouping):
    if grouping.name == "day":
        return lambda row: row["key"]
    return lambda row: (row["key"] is None, -row["created"], row["label"].lower())


EMPTY_COUNTS = {"created": 0, "resolved": 0, "reopened": 0,
                **{f"{figure}_{point}": None for figure in MINUTE_FIGURES for point in ("median", "p90")}}


def conversation_report(*, period: Period, group_by: str) -> dict:
    """`{"rows": [{"key", "label", <figures>}...], "total": {<figures>}}` for conversations created in `period`."""
    grouping = GROUPINGS[group_by]
    per_group = _figures(period, grouping)
    labels = grouping.labels(per_group.keys())
    rows = [
        {"key": key_text(key), "label": grouping.none_label if key is None else labels.get(key, f"#{key}"),
         **figures}
        for key, figures in per_group.items()
    ]
    total = _figures(period, None).get(0) or _row(EMPTY_COUNTS, None, None)
    return {"rows": sorted(rows, key=_sort_key(grouping)), "total": total}

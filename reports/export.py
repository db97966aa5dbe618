"""The conversation export of docs/reports.md (`GET /api/exports/conversations.csv`): one CSV row per conversation created
in the period, streamed with flat memory.

One query reads narrow rows (values, no model objects) with everything per conversation computed in SQL
(`reports.facts`, a tag list, the last CSAT score, the count of breached SLA targets) through
`iterator(chunk_size=...)` — a server-side cursor on PostgreSQL — and each row is written out as it comes. When the
conversation fields of docs/managers.md exist (`conversations.models.ConversationField`, values in `Conversation.fields`),
every defined field gets a column after the base ones.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import Aggregate, CharField, Count, IntegerField, OuterRef, Subquery

from conversations import models as conversation_models
from conversations.models import Conversation, Survey
from reports.facts import with_facts
from reports.periods import Period
from reports.selectors import conversations_in
from sla.models import SlaTarget, TargetState

CHUNK_SIZE = 2000
BASE_COLUMNS = [
    "id",
    "created",
    "channel",
    "team",
    "assignee",
    "status",
    "priority",
    "tags",
    "first_response_minutes",
    "resolution_minutes",
    "csat_score",
    "sla_breaches",
]
TAG_SEPARATOR = "|"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


class TagNames(Aggregate):
    """The group's tag names joined by TAG_SEPARATOR (string_agg on PostgreSQL, group_concat on SQLite)."""

    output_field = CharField()
    function = "string_agg"
    template = f"%(function)s(%(expressions)s, '{TAG_SEPARATOR}')"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="group_concat", **extra)


def _tags() -> Subquery:
    through = Conversation.tags.through.objects.filter(conversation_id=OuterRef("pk")).order_by()
    return Subquery(through.values("conversation_id").annotate(names=TagNames("tag__name")).values("names"))


def _csat_score() -> Subquery:
    answered = Survey.objects.filter(conversation=OuterRef("pk"), score__isnull=False).order_by("-answered_at")
    return Subquery(answered.values("score")[:1], output_field=IntegerField())


def _breaches() -> Subquery:
    breached = SlaTarget.objects.filter(conversation=OuterRef("pk"), state=TargetState.BREACHED).order_by()
    return Subquery(breached.values("conversation_id").annotate(n=Count("pk")).values("n"), output_field=IntegerField())


def field_definitions() -> list[tuple[str, str]]:
    """(key, column) of each conversation field, when the installation has conversation fields (docs/managers.md)."""
    definitions = getattr(conversation_models, "ConversationField", None)
    if definitions is None:
        return []
    keys = list(definitions.objects.order_by("position", "id").values_list("key", flat=True))
    return [(key, f"field_{key}" if key in BASE_COLUMNS else key) for key in keys]


def _rows(period: Period, fields: list[tuple[str, str]]) -> Iterator[tuple]:
    queryset = (
        with_facts(conversations_in(period))
        .annotate(
            r_tags=_tags(),
            r_csat=_csat_score(),
            r_breaches=_breaches(),
        )
        .order_by("created_at", "pk")
    )
    columns = [
        "pk",
        "created_at",
        "channel",
        "team__name",
        "assignee__username",
        "status",
        "priority",
        "r_tags",
        "r_first_response_minutes",
        "r_resolution_minutes",
        "r_csat",
        "r_breaches",
    ]
    if fields:
        columns.append("fields")
    return queryset.values_list(*columns).iterator(chunk_size=CHUNK_SIZE)


def _text(value: Any) -> str:
    """A cell from people's text, never read as a formula by a spreadsheet."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _minutes(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _line(row: tuple, period: Period, fields: list[tuple[str, str]]) -> list:
    pk, created, channel, team, assignee, status, priority, tags, first, resolution, csat, breaches, *rest = row
    line = [
        pk,
        created.astimezone(period.zone).isoformat(timespec="seconds"),
        channel,
        _text(team or ""),
        assignee or "",
        status,
        priority,
        _text(TAG_SEPARATOR.join(sorted(tags.split(TAG_SEPARATOR))) if tags else ""),
        _minutes(first),
        _minutes(resolution),
        "" if csat is None else csat,
        breaches or 0,
    ]
    values = (rest[0] or {}) if rest else {}
    line.extend("" if values.get(key) is None else _text(values[key]) for key, _ in fields)
    return line


class _Echo:
    """A file-like object whose write returns the text, so csv.writer yields lines instead of buffering them."""

    def write(self, value: str) -> str:
        return value


def export_lines(*, period: Period) -> Iterator[str]:
    """The CSV text of the export, one line at a time (the header first)."""
    fields = field_definitions()
    writer = csv.writer(_Echo())
    yield writer.writerow(BASE_COLUMNS + [column for _, column in fields])
    for row in _rows(period, fields):
        yield writer.writerow(_line(row, period, fields))

"""What each conversation contributes to a report, as SQL expressions over the domain rows (SPEC §16 definitions):

- resolved: a `conversation.status_changed` event to `resolved` exists; the last one is `r_last_resolved`;
- reopened: after its first resolution, a status change to an open status (new, open, pending, on hold);
- first response minutes: `created_at` to `first_response_at` (stamped by `message_create` at the first public
  message of sender type `agent`); resolution minutes: `created_at` to `r_last_resolved`. Calendar minutes.

Every expression takes a `prefix`, the path from the queried model to the conversation ("" from a conversation,
"conversation__" from a survey or an SLA target), so one definition serves every query of the report.
"""
from __future__ import annotations

from django.db.models import Exists, F, FloatField, Func, OuterRef, QuerySet, Subquery
from django.db.models.aggregates import Aggregate

from conversations.choices import EventType, Status
from conversations.models import Event

OPEN_STATUSES = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD]


class MinutesBetween(Func):
    """Calendar minutes from `start` to `end` as a float (NULL when either is NULL)."""

    output_field = FloatField()

    def __init__(self, start, end) -> None:
        super().__init__(start, end)

    def _compiled(self, compiler) -> tuple[str, str, list]:
        (start, start_params), (end, end_params) = (compiler.compile(arg) for arg in self.source_expressions)
        return start, end, [*end_params, *start_params]

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL (and any backend with EXTRACT(EPOCH ...))
        start, end, params = self._compiled(compiler)
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 60.0)", params

    def as_sqlite(self, compiler, connection, **extra):
        start, end, params = self._compiled(compiler)
        return f"((julianday({end}) - julianday({start})) * 1440.0)", params


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(fraction) WITHIN GROUP (ORDER BY value)`: linear interpolation, NULLs ignored."""

    function = "percentile_cont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def _status_changes(prefix: str) -> QuerySet:
    return Event.objects.filter(conversation=OuterRef(f"{prefix}pk"), type=EventType.STATUS_CHANGED).order_by()


def last_resolved(prefix: str = "") -> Subquery:
    """When the conversation last became `resolved` (NULL: never)."""
    changes = _status_changes(prefix).filter(payload__to=Status.RESOLVED).order_by("-occurred_at")
    return Subquery(changes.values("occurred_at")[:1])


def first_resolved(prefix: str = "") -> Subquery:
    """When the conversation first became `resolved` (NULL: never)."""
    changes = _status_changes(prefix).filter(payload__to=Status.RESOLVED).order_by("occurred_at")
    return Subquery(changes.values("occurred_at")[:1])


def reopened_after(first_resolved_name: str, prefix: str = "") -> Exists:
    """A change to an open status after the first resolution (the annotation named `first_resolved_name`)."""
    return Exists(_status_changes(prefix).filter(payload__to__in=OPEN_STATUSES,
                                                 occurred_at__gt=OuterRef(first_resolved_name)))


def with_facts(conversations: QuerySet) -> QuerySet:
    """Conversations annotated with `r_last_resolved`, `r_reopened`, `r_first_response_minutes` and
    `r_resolution_minutes`."""
    return conversations.annotate(r_last_resolved=last_resolved(), r_first_resolved=first_resolved()).annotate(
        r_reopened=reopened_after("r_first_resolved"),
        r_first_response_minutes=MinutesBetween(F("created_at"), F("first_response_at")),
        r_resolution_minutes=MinutesBetween(F("created_at"), F("r_last_resolved")),
    )


def interpolated(values: list[float], fraction: float) -> float | None:
    """The `fraction` percentile of sorted `values` by linear interpolation (as percentile_cont); None if empty."""
    if not values:
        return None
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)

"""What each conversation contributes to a report, as SQL expressions (docs/reports.md definitions):

- resolved: it became `resolved` at least once (it has a `ConversationFacts` row, kept by `reports.projection`);
- reopened: after its first resolution it was set to an open status (new, open, pending, on hold);
- first response minutes: `created_at` to `first_response_at` (stamped by `message_create` at the first public
  message of sender type `agent`); resolution minutes: `created_at` to the last time it became `resolved`.
  Calendar minutes; the business minutes of the same two spans are stored by the projector (reports.business).

Every expression takes a `prefix`, the path from the queried model to the conversation ("" from a conversation,
"conversation__" from a survey or an SLA target), so one definition serves every query of the report.
"""

from __future__ import annotations

from django.db.models import F, Field, FloatField, Func, Q, QuerySet
from django.db.models.aggregates import Aggregate

FACTS = "report_facts__"


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


class _Floats(Field):
    """The type of a float8[] read as it comes (a list of floats, or NULL)."""


class PercentilesCont(Aggregate):
    """`percentile_cont(ARRAY[fractions]) WITHIN GROUP (ORDER BY value)`: every fraction from one sort (a list, or
    NULL when the group has no value)."""

    function = "percentile_cont"
    output_field = _Floats()
    template = "%(function)s(ARRAY[%(fractions)s]::double precision[]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fractions: tuple[float, ...], **extra) -> None:
        super().__init__(expression, fractions=", ".join(repr(float(fraction)) for fraction in fractions), **extra)


def resolved(prefix: str = "") -> Q:
    """Resolved at least once."""
    return Q(**{f"{prefix}{FACTS}last_resolved_at__isnull": False})


def reopened(prefix: str = "") -> Q:
    """Resolved, and later set to an open status."""
    return Q(**{f"{prefix}{FACTS}reopened": True})


def first_response_minutes(prefix: str = "") -> MinutesBetween:
    return MinutesBetween(F(f"{prefix}created_at"), F(f"{prefix}first_response_at"))


def resolution_minutes(prefix: str = "") -> MinutesBetween:
    return MinutesBetween(F(f"{prefix}created_at"), F(f"{prefix}{FACTS}last_resolved_at"))


def first_response_business_minutes(prefix: str = "") -> F:
    """Stored by the projector: open time of the policy's calendar (reports.business)."""
    return F(f"{prefix}{FACTS}first_response_business_minutes")


def resolution_business_minutes(prefix: str = "") -> F:
    return F(f"{prefix}{FACTS}resolution_business_minutes")


def with_facts(conversations: QuerySet) -> QuerySet:
    """Conversations annotated with `r_first_response_minutes`, `r_resolution_minutes` and their business twins."""
    return conversations.annotate(
        r_first_response_minutes=first_response_minutes(),
        r_resolution_minutes=resolution_minutes(),
        r_first_response_business_minutes=first_response_business_minutes(),
        r_resolution_business_minutes=resolution_business_minutes(),
    )

"""The five ways to group a report (docs/reports.md `group_by`): each a `Grouping` with its key expression (over a path to
the conversation), its labels, and the conversation-list filter that shows a group's conversations in admin.

`agent` is the assignee at the conversation's last resolution (recorded by `reports.projection` when it became
`resolved`) and otherwise (never resolved, or unassigned when resolved) the current assignee.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import BigIntegerField, F, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext_lazy as _

from conversations.choices import Channel
from conversations.models import Tag, Team
from reports.periods import local_midnight


def agent_at_resolution(prefix: str) -> Coalesce:
    """The assignee at the last resolution (kept in `ConversationFacts`), else the current assignee."""
    return Coalesce(
        F(f"{prefix}report_facts__resolved_assignee_id"), F(f"{prefix}assignee_id"), output_field=BigIntegerField()
    )


def _agent_labels(keys: Iterable[Any]) -> dict[Any, str]:
    users = get_user_model().objects.filter(pk__in=[key for key in keys if key is not None])
    return {user.pk: user.get_full_name() or user.get_username() for user in users}


def _team_labels(keys: Iterable[Any]) -> dict[Any, str]:
    return dict(Team.objects.filter(pk__in=[key for key in keys if key is not None]).values_list("pk", "name"))


def _channel_labels(keys: Iterable[Any]) -> dict[Any, str]:
    return {key: Channel(key).label if key in Channel.values else key for key in keys}


def _same(keys: Iterable[Any]) -> dict[Any, str]:
    return {key: key for key in keys}


class LocalDate(TruncDate):
    """The date of a moment in the period's zone. PostgreSQL: `AT TIME ZONE` (TruncDate). SQLite: Django's TruncDate
    calls a Python function per row there, so instead the zone's UTC offsets over the period (they change only at
    DST transitions, found once per period) become a CASE of SQLite `date(moment, '+N minutes')`."""

    def __init__(self, expression, period) -> None:
        super().__init__(expression, tzinfo=period.zone)
        self.segments = offset_segments(period.zone, period.start, period.end)
        self.period = period

    def as_postgresql(self, compiler, connection, **extra):
        """PostgreSQL: within the period, `width_bucket` over the sorted array of its local midnights (a binary
        search per row; `AT TIME ZONE` cost 1.4 times as much per row at 1,000,000 rows); outside it `AT TIME ZONE`."""
        column, column_params = compiler.compile(self.lhs)
        zoned, zoned_params = super().as_sql(compiler, connection, **extra)
        since, until, zone = self.period.since, self.period.until, self.period.zone
        midnights = [local_midnight(since + dt.timedelta(days=n), zone) for n in range((until - since).days + 2)]
        sql = (
            f"CASE WHEN {column} >= %s AND {column} < %s THEN %s::date + width_bucket({column}, %s::timestamptz[]) "
            f"ELSE {zoned} END"
        )
        params = [*column_params, midnights[0], *column_params, midnights[-1], since - dt.timedelta(days=1)]
        return f"({sql})", [*params, *column_params, midnights, *zoned_params]

    def as_sqlite(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.lhs)
        *changes, (_, last) = self.segments
        if not changes:
            return f"date({column}, '{last:+d} minutes')", list(column_params)
        sql, params = "CASE", []
        for until, offset in changes:
            sql += f" WHEN {column} < %s THEN date({column}, '{offset:+d} minutes')"
            params += [*column_params, str(until.replace(tzinfo=None)), *column_params]
        sql += f" ELSE date({column}, '{last:+d} minutes') END"
        return f"({sql})", [*params, *column_params]


@lru_cache(maxsize=64)
def offset_segments(zone: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime) -> tuple:
    """((until, offset minutes), ..., (None, offset minutes)): the zone's UTC offset from `start` up to each change
    before `end` (probed hourly, then to the minute), then the last one."""

    def offset(moment: dt.datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds() // 60)

    segments, current, hour = [], offset(start), start
    while hour < end:
        following = hour + dt.timedelta(hours=1)
        if offset(following) != current:
            change = next(
                minute for minute in (hour + dt.timedelta(minutes=n) for n in range(1, 61)) if offset(minute) != current
            )
            segments.append((change.astimezone(dt.UTC), current))
            current = offset(change)
        hour = following
    return (*segments, (None, current))


def _day_labels(keys: Iterable[Any]) -> dict[Any, str]:
    return {key: key.isoformat() for key in keys if key is not None}


def _day_filter(key: str, zone: zoneinfo.ZoneInfo) -> dict[str, str]:
    day = dt.date.fromisoformat(key)
    return {
        "created_at__gte": local_midnight(day, zone).isoformat(),
        "created_at__lt": local_midnight(day + dt.timedelta(days=1), zone).isoformat(),
    }


def _tag_filter(name: str) -> dict[str, str]:
    """The conversation list's own tag filter takes the tag's id."""
    return {"tags__id__exact": str(Tag.objects.filter(name=name).values_list("pk", flat=True).first())}


@dataclass(frozen=True)
class Grouping:
    """One `group_by` value: its key expression, labels for keys, the label of no key, and its admin filter."""

    name: str
    key: Callable[[str, Any], Any]
    labels: Callable[[Iterable[Any]], dict[Any, str]]
    none_label: str
    admin_filter: Callable[[Any, zoneinfo.ZoneInfo], dict[str, str]]
    # False when a conversation can fall in several groups (or none): then the total is not ranked over its rows.
    one_per_conversation: bool = True


GROUPINGS: dict[str, Grouping] = {
    grouping.name: grouping
    for grouping in (
        Grouping(
            "agent",
            lambda prefix, period: agent_at_resolution(prefix),
            _agent_labels,
            _("Unassigned"),
            lambda key, zone: {"report_agent": "none" if key is None else str(key)},
        ),
        Grouping(
            "team",
            lambda prefix, period: F(f"{prefix}team_id"),
            _team_labels,
            _("No team"),
            lambda key, zone: {"team__isnull": "True"} if key is None else {"team__id__exact": str(key)},
        ),
        Grouping(
            "channel",
            lambda prefix, period: F(f"{prefix}channel"),
            _channel_labels,
            _("No channel"),
            lambda key, zone: {"channel__exact": key},
        ),
        Grouping(
            "tag",
            lambda prefix, period: F(f"{prefix}tags__name"),
            _same,
            _("No tag"),
            lambda key, zone: {"tags__isnull": "True"} if key is None else _tag_filter(key),
            one_per_conversation=False,
        ),
        Grouping("day", lambda prefix, period: LocalDate(f"{prefix}created_at", period), _day_labels, "", _day_filter),
    )
}


def keyed(queryset, grouping: Grouping | None, period, prefix: str = ""):
    """`queryset` with the group key annotated as `r_key` (a constant for the total)."""
    if grouping is None:
        return queryset.annotate(r_key=Value(0))
    return queryset.annotate(r_key=grouping.key(prefix, period))


def key_text(key: Any) -> Any:
    """The key as the API shows it: a day as `YYYY-MM-DD`, ids and codes as they are."""
    return key.isoformat() if isinstance(key, dt.date) else key

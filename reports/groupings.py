"""The five ways to group a report (SPEC §16 `group_by`): each a `Grouping` with its key expression (over a path to
the conversation), its labels, and the conversation-list filter that shows a group's conversations in admin.

`agent` is the assignee at the conversation's last resolution — the `assignee_id` of the last `conversation.assigned`
event at or before it — and otherwise (never resolved, or unassigned when resolved) the current assignee.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import BigIntegerField, F, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate

from conversations.choices import Channel, EventType
from conversations.models import Event, Tag, Team
from reports.facts import last_resolved

RESOLVED_AT = "r_last_resolved"


def agent_at_resolution(prefix: str) -> Coalesce:
    """The assignee at the last resolution (from the assignment events), else the current assignee. Needs the
    `r_last_resolved` annotation on the query."""
    assignments = Event.objects.filter(
        conversation=OuterRef(f"{prefix}pk"), type=EventType.ASSIGNED, occurred_at__lte=OuterRef(RESOLVED_AT),
    ).order_by("-occurred_at")
    at_resolution = assignments.annotate(
        r_assignee=Cast(KeyTextTransform("assignee_id", "payload"), BigIntegerField())
    ).values("r_assignee")[:1]
    return Coalesce(Subquery(at_resolution), F(f"{prefix}assignee_id"), output_field=BigIntegerField())


def _agent_labels(keys: Iterable[Any]) -> dict[Any, str]:
    users = get_user_model().objects.filter(pk__in=[key for key in keys if key is not None])
    return {user.pk: user.get_full_name() or user.get_username() for user in users}


def _team_labels(keys: Iterable[Any]) -> dict[Any, str]:
    return dict(Team.objects.filter(pk__in=[key for key in keys if key is not None]).values_list("pk", "name"))


def _channel_labels(keys: Iterable[Any]) -> dict[Any, str]:
    return {key: Channel(key).label if key in Channel.values else key for key in keys}


def _same(keys: Iterable[Any]) -> dict[Any, str]:
    return {key: key for key in keys}


def _day_labels(keys: Iterable[Any]) -> dict[Any, str]:
    return {key: key.isoformat() for key in keys if key is not None}


def _day_filter(key: str, zone: zoneinfo.ZoneInfo) -> dict[str, str]:
    from reports.periods import local_midnight

    day = dt.date.fromisoformat(key)
    return {"created_at__gte": local_midnight(day, zone).isoformat(),
            "created_at__lt": local_midnight(day + dt.timedelta(days=1), zone).isoformat()}


def _tag_filter(name: str) -> dict[str, str]:
    """The conversation list's own tag filter takes the tag's id."""
    return {"tags__id__exact": str(Tag.objects.filter(name=name).values_list("pk", flat=True).first())}


@dataclass(frozen=True)
class Grouping:
    """One `group_by` value: its key expression, labels for keys, the label of no key, and its admin filter."""

    name: str
    key: Callable[[str, zoneinfo.ZoneInfo], Any]
    labels: Callable[[Iterable[Any]], dict[Any, str]]
    none_label: str
    admin_filter: Callable[[Any, zoneinfo.ZoneInfo], dict[str, str]]
    needs_resolution: bool = False


GROUPINGS: dict[str, Grouping] = {grouping.name: grouping for grouping in (
    Grouping("agent", lambda prefix, zone: agent_at_resolution(prefix), _agent_labels, "Unassigned",
             lambda key, zone: {"report_agent": "none" if key is None else str(key)}, needs_resolution=True),
    Grouping("team", lambda prefix, zone: F(f"{prefix}team_id"), _team_labels, "No team",
             lambda key, zone: {"team__isnull": "True"} if key is None else {"team__id__exact": str(key)}),
    Grouping("channel", lambda prefix, zone: F(f"{prefix}channel"), _channel_labels, "No channel",
             lambda key, zone: {"channel__exact": key}),
    Grouping("tag", lambda prefix, zone: F(f"{prefix}tags__name"), _same, "No tag",
             lambda key, zone: {"tags__isnull": "True"} if key is None else _tag_filter(key)),
    Grouping("day", lambda prefix, zone: TruncDate(f"{prefix}created_at", tzinfo=zone), _day_labels, "",
             _day_filter),
)}


def keyed(queryset, grouping: Grouping | None, zone: zoneinfo.ZoneInfo, prefix: str = ""):
    """`queryset` with the group key annotated as `r_key` (a constant for the total)."""
    from django.db.models import Value

    if grouping is None:
        return queryset.annotate(r_key=Value(0))
    if grouping.needs_resolution and prefix:
        queryset = queryset.annotate(**{RESOLVED_AT: last_resolved(prefix)})
    return queryset.annotate(r_key=grouping.key(prefix, zone))


def key_text(key: Any) -> Any:
    """The key as the API shows it: a day as `YYYY-MM-DD`, ids and codes as they are."""
    return key.isoformat() if isinstance(key, dt.date) else key

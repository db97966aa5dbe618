"""The run context of a recorded event "as it was then", for a replay (docs/managers.md: computed from what was
recorded).

What is recorded is used: the event itself (payload, time, depth, and the message it names, which never changes),
the state the event set (status, priority and channel on creation; the new status; the assignee and team; the
disposition; the sentiment after a crossing), the conversation's age at the event and its first response /
resolution / last customer message only if they had happened by then. What is not recorded is today's: tags, the
message count and the contact (with its memory). `idle_minutes` is unknown at a past moment and left empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model

from conversations.choices import EventType
from conversations.models import Event, Team
from workflows.engine.context import LazyContext

LATER_MOMENTS = ("first_response_at", "resolved_at", "last_customer_message_at")


def _pick(payload: dict[str, Any], **keys: str) -> dict[str, Any]:
    """Context keys taken from payload keys (`status="to"`), for those the payload has."""
    return {name: payload[key] for name, key in keys.items() if key in payload}


def _assignment(payload: dict[str, Any], conversation: dict[str, Any]) -> dict[str, Any]:
    """The assignee and team the event set, with their names (read only when they are not today's)."""
    dated: dict[str, Any] = {}
    if "team_id" in payload and payload["team_id"] != conversation.get("team_id"):
        team_id = payload["team_id"]
        dated.update(
            team_id=team_id,
            team=Team.objects.filter(pk=team_id).values_list("name", flat=True).first() if team_id else None,
        )
    if "assignee_id" in payload and payload["assignee_id"] != conversation.get("assignee_id"):
        user = get_user_model().objects.filter(pk=payload["assignee_id"]).first() if payload["assignee_id"] else None
        dated.update(
            assignee_id=payload["assignee_id"],
            assignee=user.get_username() if user else None,
            assignee_email=user.email if user else None,
        )
    return dated


def _fields(payload: dict[str, Any], conversation: dict[str, Any]) -> dict[str, Any]:
    """Today's field values with those the event set (a `conversation.fields_changed` records old and new)."""
    fields = {**(conversation.get("fields") or {}), **(payload.get("new") or {})}
    return {"fields": {key: value for key, value in fields.items() if value is not None}}


STATE_SET_BY: dict[str, Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    EventType.CONVERSATION_CREATED: lambda p, c: _pick(p, status="status", priority="priority", channel="channel"),
    EventType.STATUS_CHANGED: lambda p, c: _pick(p, status="to"),
    EventType.DISPOSITION_SET: lambda p, c: _pick(p, disposition="disposition"),
    EventType.SENTIMENT_CROSSED: lambda p, c: _pick(p, sentiment="sentiment_after"),
    EventType.ASSIGNED: _assignment,
    EventType.FIELDS_CHANGED: _fields,
}


def conversation_at(event: Event, conversation: dict[str, Any]) -> dict[str, Any]:
    """A copy of today's `conversation.*` data moved back to the moment of `event` (see the module docstring)."""
    if not conversation:
        return conversation
    at = event.occurred_at
    state = STATE_SET_BY.get(event.type)
    dated = {**conversation, **(state(event.payload or {}, conversation) if state else {})}
    if conversation.get("created_at"):
        age = at - dt.datetime.fromisoformat(conversation["created_at"])
        dated["age_minutes"] = max(0, int(age.total_seconds() // 60))
    dated["idle_minutes"] = None
    for key in LATER_MOMENTS:
        if dated.get(key) and dt.datetime.fromisoformat(dated[key]) > at:
            dated[key] = None
    return dated


class ContextAtEvent(LazyContext):
    """The trigger-matching context (lazy, shared reads with the chunk's other events) with the conversation as of
    the event, so a filter on `conversation.*` is judged on the state then, not today's."""

    _dated = False

    def __missing__(self, key: str) -> Any:
        super().__missing__(key)
        if key in ("conversation", "contact") and not self._dated:
            self._dated = True
            dict.__setitem__(self, "conversation", conversation_at(self._event, dict.__getitem__(self, "conversation")))
        return dict.__getitem__(self, key)

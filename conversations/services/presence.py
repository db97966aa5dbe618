"""Presence (docs/agent_day.md): who is viewing or replying on a conversation, from heartbeats in the last 30 seconds.

One small table upserted per heartbeat (works across processes, unlike a local-memory cache); not a domain change,
so no event. Reads go through the (conversation, seen_at) index.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from conversations import clock
from conversations.models import Conversation, Presence, PresenceState

PRESENCE_WINDOW = dt.timedelta(seconds=30)


def presence_beat(*, conversation: Conversation, user, state: str) -> None:
    """Record that `user` is `state` (viewing or replying) on the conversation now: one UPDATE per heartbeat once the
    row exists (a beat comes every few seconds from every open workspace, so it stays that cheap)."""
    state = PresenceState(state)
    now = clock.now()
    if Presence.objects.filter(conversation=conversation, user=user).update(state=state, seen_at=now):
        return
    try:
        with transaction.atomic():
            Presence.objects.create(conversation=conversation, user=user, state=state, seen_at=now)
    except IntegrityError:  # a second tab of the same person beat first
        Presence.objects.filter(conversation=conversation, user=user).update(state=state, seen_at=now)


def present_on(conversation: Conversation, *, now: dt.datetime | None = None) -> QuerySet:
    """Everyone seen on the conversation in the last 30 seconds, most recent first, with their users."""
    since = (now or clock.now()) - PRESENCE_WINDOW
    return (
        Presence.objects.filter(conversation=conversation, seen_at__gte=since)
        .select_related("user")
        .order_by("-seen_at")
    )

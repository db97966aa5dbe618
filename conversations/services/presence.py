"""Presence (SPEC §17): who is viewing or replying on a conversation, from heartbeats in the last 30 seconds.

One small table upserted per heartbeat (works across processes, unlike a local-memory cache); not a domain change,
so no event. Reads go through the (conversation, seen_at) index.
"""
from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from conversations import clock
from conversations.models import Conversation, Presence, PresenceState

PRESENCE_WINDOW = dt.timedelta(seconds=30)


def presence_beat(*, conversation: Conversation, user, state: str) -> Presence:
    """Record that `user` is `state` (viewing or replying) on the conversation now."""
    state = PresenceState(state)
    presence, _ = Presence.objects.update_or_create(conversation=conversation, user=user,
                                                    defaults={"state": state, "seen_at": clock.now()})
    return presence


def present_on(conversation: Conversation, *, now: dt.datetime | None = None) -> QuerySet:
    """Everyone seen on the conversation in the last 30 seconds, most recent first, with their users."""
    since = (now or clock.now()) - PRESENCE_WINDOW
    return (Presence.objects.filter(conversation=conversation, seen_at__gte=since).select_related("user")
            .order_by("-seen_at"))

"""The periodic part of routing: hand back conversations whose assignee stayed silent past the team's
`reassign_after_minutes` (reason `no_reply`), then fill every queue. The workflows sweep calls `routing_sweep`, so a
seat that freed without a wake-up (a lost after-commit fill, a worker that died) is filled within one sweep."""

from __future__ import annotations

import datetime as dt

from conversations import clock
from conversations.choices import AssignReason
from conversations.models import Conversation, Team
from conversations.routing.agents import hand_back, unanswered
from conversations.routing.queue import queue_fill

BATCH = 200


def silent_conversations(now: dt.datetime) -> list[int]:
    """Ids of conversations whose assignee has not replied within their team's `reassign_after_minutes`."""
    ids: list[int] = []
    for team in Team.objects.filter(reassign_after_minutes__isnull=False):
        cutoff = now - dt.timedelta(minutes=team.reassign_after_minutes)
        ids += (
            unanswered(Conversation.objects.filter(team=team, assigned_at__lte=cutoff))
            .order_by("assigned_at")
            .values_list("pk", flat=True)[:BATCH]
        )
    return ids


def hand_back_silent(now: dt.datetime | None = None) -> int:
    """Return silent conversations to their queues (`no_reply`); how many went back."""
    ids = silent_conversations(now or clock.now())
    return sum(hand_back(conversation=Conversation.objects.get(pk=pk), reason=AssignReason.NO_REPLY) for pk in ids)


def routing_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """One routing pass: hand back the silent ones, then fill every auto-assign queue."""
    handed_back = hand_back_silent(now)
    return {"handed_back": handed_back, "assigned": len(queue_fill(now=now))}

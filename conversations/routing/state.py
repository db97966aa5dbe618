"""Which conversations wait in a queue, and the after-commit wake-up of the queue.

A conversation waits in its team's queue while it has a team, no assignee and status `new` or `open`;
`queued_since` says since when (kept by `sync_queue_fields`, which the conversation services call on every change
of team, assignee or status). `request_fill` asks for a `queue_fill` once the caller's transaction commits: the
services call it whenever a seat may have freed or work arrived, so nobody waits for the sweep in the common case.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from conversations import clock
from conversations.choices import Status

logger = logging.getLogger(__name__)

# The statuses that wait in a queue and count against an agent's capacity (docs/routing.md).
WAITING_STATUSES = (Status.NEW, Status.OPEN)


def is_waiting(conversation) -> bool:
    """Whether the conversation belongs in its team's queue now."""
    return (conversation.team_id is not None and conversation.assignee_id is None
            and conversation.status in WAITING_STATUSES)


def sync_queue_fields(conversation) -> list[str]:
    """Keep `queued_since` in step with the conversation (in memory); returns the fields to save."""
    waiting = is_waiting(conversation)
    if waiting and conversation.queued_since is None:
        conversation.queued_since = clock.now()
        return ["queued_since"]
    if not waiting and conversation.queued_since is not None:
        conversation.queued_since = None
        return ["queued_since"]
    return []


def request_fill(*, team_ids: Iterable[int | None] = (), agent_id: int | None = None) -> None:
    """Fill the queues of these teams (and of the agent's teams) once the current transaction commits."""
    ids = {pk for pk in team_ids if pk}
    if not ids and agent_id is None:
        return
    transaction.on_commit(lambda: _fill_after_commit(ids, agent_id), robust=True)


def _fill_after_commit(team_ids: set[int], agent_id: int | None) -> None:
    from conversations.models import Team
    from conversations.routing.queue import queue_fill

    if agent_id is not None:
        team_ids = team_ids | set(Team.objects.filter(agents__user_id=agent_id).values_list("pk", flat=True))
    if team_ids:
        queue_fill(team_ids=team_ids)

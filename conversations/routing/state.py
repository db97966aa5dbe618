"""Which conversations wait in a queue, and the after-commit wake-up of the queue.

A conversation waits in its team's queue while it has a team, no assignee and status `new` or `open`;
`queued_since` says since when (kept by `sync_queue_fields`, which the conversation services call on every change
of team, assignee or status). The after-commit wake-up of the queue, `request_fill`, lives with the fill it asks
for, in `conversations.routing.queue` (this module stays below it, so the two never import each other).
"""

from __future__ import annotations

import logging

from conversations import clock
from conversations.choices import Status

logger = logging.getLogger(__name__)

# The statuses that wait in a queue and count against an agent's capacity (docs/routing.md).
WAITING_STATUSES = (Status.NEW, Status.OPEN)


def is_waiting(conversation) -> bool:
    """Whether the conversation belongs in its team's queue now."""
    return (
        conversation.team_id is not None
        and conversation.assignee_id is None
        and conversation.status in WAITING_STATUSES
    )


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

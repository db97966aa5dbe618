"""Agents as routing sees them: status, capacity, skills and teams, and the hand-back when one goes offline.

A change that may free or open a seat (coming online, more capacity, new skills or teams) asks for a queue fill
after commit; going `offline` gives back the conversations the agent has not answered yet (reason `agent_offline`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from conversations.choices import AgentStatus, AssignReason
from conversations.models import AgentProfile, Conversation, Team
from conversations.routing.queue import request_fill
from conversations.routing.skills import clean_skills
from conversations.routing.state import WAITING_STATUSES
from conversations.services.checks import require_choice

MAX_CAPACITY = 1000


def unanswered(queryset: QuerySet) -> QuerySet:
    """Conversations (new, open, in a team) whose current assignee has no public agent reply since assignment."""
    return queryset.filter(status__in=WAITING_STATUSES, team__isnull=False, assignee__isnull=False).filter(
        Q(last_agent_reply_at__isnull=True) | Q(assigned_at__isnull=False, last_agent_reply_at__lt=F("assigned_at"))
    )


def hand_back(*, conversation: Conversation, reason: str) -> bool:
    """Return one conversation to its team's queue (the lock re-checks it is still unanswered); records
    `conversation.assigned` with `reason`. True when it went back."""
    from conversations.services.conversations import conversation_assign, lock_conversation

    with transaction.atomic():
        lock_conversation(conversation)
        if not unanswered(Conversation.objects.filter(pk=conversation.pk)).exists():
            return False
        conversation_assign(conversation=conversation, assignee=None, reason=reason)
    return True


def hand_back_unanswered(*, agent: Any, reason: str = AssignReason.AGENT_OFFLINE) -> list[int]:
    """Give back every conversation of `agent` that has no agent reply yet; returns their ids."""
    ids = list(unanswered(Conversation.objects.filter(assignee=agent)).values_list("pk", flat=True))
    return [pk for pk in ids if hand_back(conversation=Conversation.objects.get(pk=pk), reason=reason)]


def _clean_capacity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
        raise ValidationError(
            {"capacity": _("A whole number from 0 to %(MAX_CAPACITY)s.") % {"MAX_CAPACITY": MAX_CAPACITY}}
        )
    return value


def agent_update(
    *,
    profile: AgentProfile,
    status: str | None = None,
    capacity: int | None = None,
    skills: Any = None,
    teams: Iterable[Team] | None = None,
) -> AgentProfile:
    """Change an agent's routing settings (any subset); going offline hands unanswered work back, and any change
    that may open a seat fills the agent's queues after commit."""
    if status is not None:
        require_choice(status, AgentStatus, "status")
    if capacity is not None:
        capacity = _clean_capacity(capacity)
    names = clean_skills(skills) if skills is not None else None
    with transaction.atomic():
        # the row under its lock, so a change made meanwhile by someone else is not overwritten with stale values
        locked = AgentProfile.objects.select_for_update().get(pk=profile.pk)
        previous_status = locked.status
        for name, value in (("status", status), ("capacity", capacity), ("skills", names)):
            if value is not None:
                setattr(locked, name, value)
        locked.save(update_fields=["status", "capacity", "skills"])
        profile.status, profile.capacity, profile.skills = locked.status, locked.capacity, locked.skills
        if teams is not None:
            profile.teams.set(list(teams))
        if status == AgentStatus.OFFLINE and previous_status != AgentStatus.OFFLINE:
            hand_back_unanswered(agent=profile.user_id)
        if profile.status == AgentStatus.ONLINE:
            request_fill(agent_id=profile.user_id)
    return profile


def agent_set_status(*, profile: AgentProfile, status: str) -> AgentProfile:
    """The agent's one-click status switch (workspace header, API)."""
    return agent_update(profile=profile, status=status)

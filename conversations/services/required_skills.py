"""A conversation's `required_skills`: the skills an agent needs to take it from its team's queue (docs/routing.md)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from conversations.models import Conversation
from conversations.routing.queue import request_fill
from conversations.routing.skills import clean_skills
from conversations.services.locks import lock_conversation


def conversation_set_required_skills(*, conversation: Conversation, skills: Any) -> Conversation:
    """Set the skills an agent needs to take the conversation from the queue (API PATCH, admin, `set_skills`)."""
    names = clean_skills(skills, "required_skills")
    with transaction.atomic():
        lock_conversation(conversation)  # compare with the row as stored, not with values a form already set
        if conversation.required_skills == names:
            return conversation
        conversation.required_skills = names
        Conversation.objects.filter(pk=conversation.pk).update(required_skills=names)
        if conversation.team_id:
            request_fill(team_ids=[conversation.team_id])
    return conversation

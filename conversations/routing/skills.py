"""Skill names (lower-case, trimmed, unique) and the conversation's `required_skills`."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations.models import Conversation
from conversations.routing.state import request_fill

MAX_SKILLS = 50
MAX_SKILL_LENGTH = 50


def clean_skills(value: Any, field: str = "skills") -> list[str]:
    """A list of skill names, normalised (trimmed, lower-case, duplicates dropped, order kept); else a field error."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValidationError({field: _('Skills are a list of names, e.g. ["german", "billing"].')})
    names: list[str] = []
    for raw in value:
        name = raw.strip().lower()
        if not name or len(name) > MAX_SKILL_LENGTH:
            raise ValidationError({field: _('A skill name has 1 to %(MAX_SKILL_LENGTH)s characters.') % {'MAX_SKILL_LENGTH': MAX_SKILL_LENGTH}})
        if name not in names:
            names.append(name)
    if len(names) > MAX_SKILLS:
        raise ValidationError({field: _('At most %(MAX_SKILLS)s skills.') % {'MAX_SKILLS': MAX_SKILLS}})
    return names


def has_skills(agent_skills: list[str] | None, required: list[str] | None) -> bool:
    """Whether an agent with `agent_skills` may take a conversation needing `required` (all of them)."""
    return set(required or ()) <= set(agent_skills or ())


def conversation_set_required_skills(*, conversation: Conversation, skills: Any) -> Conversation:
    """Set the skills an agent needs to take the conversation from the queue (API PATCH, admin, `set_skills`)."""
    from conversations.services.conversations import lock_conversation

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

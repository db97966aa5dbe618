"""Skill names (lower-case, trimmed, unique) and whether an agent has a conversation's `required_skills` (pure: the
write, `conversation_set_required_skills`, is a service in `conversations.services.required_skills`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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
            raise ValidationError(
                {
                    field: _("A skill name has 1 to %(MAX_SKILL_LENGTH)s characters.")
                    % {"MAX_SKILL_LENGTH": MAX_SKILL_LENGTH}
                }
            )
        if name not in names:
            names.append(name)
    if len(names) > MAX_SKILLS:
        raise ValidationError({field: _("At most %(MAX_SKILLS)s skills.") % {"MAX_SKILLS": MAX_SKILLS}})
    return names


def has_skills(agent_skills: list[str] | None, required: list[str] | None) -> bool:
    """Whether an agent with `agent_skills` may take a conversation needing `required` (all of them)."""
    return set(required or ()) <= set(agent_skills or ())

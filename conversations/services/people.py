"""Contacts, teams and agents: create, update, merge contact attributes ("memory"), delete a team."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations import clock, payloads
from conversations.choices import (
    EventType,
)
from conversations.events import record_event
from conversations.models import (
    AgentProfile,
    Contact,
    Team,
)
from conversations.routing.queue import request_fill
from conversations.services.checks import (
    OPEN_STATUSES,
    clean_phone,
    require_object,
)

User = get_user_model()


_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def clean_language(language: str | None) -> str:
    """A language tag as the contact is answered in: `de`, `pt-br` (lower case; "" = the site's language)."""
    language = (language or "").strip().lower().replace("_", "-")
    if language and not _LANGUAGE_TAG.match(language):
        raise ValidationError(
            {"language": _('"%(language)s" is not a language tag such as "de" or "pt-br".') % {"language": language}}
        )
    return language


TEAM_TEXT_FIELDS = {"name", "email"}
# The queue settings (docs/routing.md), kept as given (validated by the model's field checks).
TEAM_QUEUE_FIELDS = {"auto_assign", "strategy", "skills_timeout_minutes", "reassign_after_minutes"}


def contact_create(
    *,
    name: str,
    email: str = "",
    phone: str = "",
    segment: str = "",
    attributes: dict | None = None,
    language: str = "",
) -> Contact:
    """Create a contact (phone normalised to E.164) and record `contact.created`."""
    contact = Contact(
        name=name,
        email=email or "",
        phone=clean_phone(phone),
        segment=segment or "",
        attributes=dict(require_object(attributes, "attributes")),
        language=clean_language(language),
    )
    contact.full_clean()
    with transaction.atomic():
        contact.save()
        record_event(type=EventType.CONTACT_CREATED, contact=contact, payload=payloads.contact_created(contact=contact))
    return contact


def merge_attributes(current: dict, patch: dict) -> tuple[dict, list[str]]:
    """Merge `patch` into `current`: a key set to None is removed. Returns the result and the changed keys."""
    merged = dict(current)
    changed = []
    for key, value in patch.items():
        if value is None:
            if key in merged:
                del merged[key]
                changed.append(key)
        elif merged.get(key, object()) != value:
            merged[key] = value
            changed.append(key)
    return merged, changed


def contact_update(*, contact: Contact, attributes_patch: dict | None = None, depth: int = 0, **fields: Any) -> Contact:
    """Update name/email/phone/segment/language and merge attributes; record `contact.updated` with what changed."""
    unknown = set(fields) - {"name", "email", "phone", "segment", "language"}
    if unknown:
        raise ValidationError({key: "Not a contact field." for key in unknown})
    if "phone" in fields:
        fields["phone"] = clean_phone(fields["phone"])
    if "language" in fields:
        fields["language"] = clean_language(fields["language"])
    changed_fields = [key for key, value in fields.items() if getattr(contact, key) != value]
    for key in changed_fields:
        setattr(contact, key, fields[key])
    changed_keys: list[str] = []
    if require_object(attributes_patch, "attributes"):
        contact.attributes, changed_keys = merge_attributes(contact.attributes or {}, attributes_patch)
    if not changed_fields and not changed_keys:
        return contact
    contact.full_clean()
    with transaction.atomic():
        contact.save()
        record_event(
            type=EventType.CONTACT_UPDATED,
            contact=contact,
            payload=payloads.contact_updated(contact=contact, fields=changed_fields, attributes=changed_keys),
            depth=depth,
        )
    return contact


def team_create(*, name: str, email: str = "", **queue: Any) -> Team:
    """Create a team with a unique name (and, optionally, its queue settings)."""
    unknown = set(queue) - TEAM_QUEUE_FIELDS
    if unknown:
        raise ValidationError({key: "Not a team field." for key in unknown})
    team = Team(name=(name or "").strip(), email=email or "", **queue)
    team.full_clean()
    team.save()
    return team


def team_update(*, team: Team, **fields: Any) -> Team:
    """Rename a team, change its notification email or its queue settings; turning `auto_assign` on (or any queue
    setting) fills the queue after commit."""
    unknown = set(fields) - TEAM_TEXT_FIELDS - TEAM_QUEUE_FIELDS
    if unknown:
        raise ValidationError({key: "Not a team field." for key in unknown})
    for key, value in fields.items():
        setattr(team, key, (value or "").strip() if key in TEAM_TEXT_FIELDS else value)
    team.full_clean()
    with transaction.atomic():
        team.save()
        if TEAM_QUEUE_FIELDS & set(fields):
            request_fill(team_ids=[team.pk])
    return team


def team_delete(*, team: Team) -> None:
    """Delete a team that has no open conversations; open work must be reassigned first (with its events)."""
    open_count = team.conversations.filter(status__in=OPEN_STATUSES).count()
    if open_count:
        raise ValidationError(
            {
                "team": _("The team has %(open_count)s open conversations; reassign them first.")
                % {"open_count": open_count}
            }
        )
    team.delete()


def agent_mark_assigned(*, agent, at=None) -> None:
    """Stamp when an agent last got a conversation: round-robin routing picks the one who has waited longest."""
    AgentProfile.objects.filter(user=agent).update(last_assigned_at=at or clock.now())

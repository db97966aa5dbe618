"""Email for workflow steps: who a user, team or address list means, and sending through Django's mail backend.

`EMAIL_BACKEND` comes from settings (SMTP in production, the console by default, locmem in tests). A delivery
failure is raised as a ValidationError so the step's writes roll back and the run log shows a readable reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.urls import reverse

from conversations.conf import helpdesk_setting
from conversations.models import AgentProfile, Conversation, Team
from conversations.selectors import resolve_agent, resolve_team


def unique_addresses(addresses: Iterable[str]) -> list[str]:
    """Addresses in first-seen order without repeats (case-insensitive), blanks dropped."""
    seen: set[str] = set()
    result = []
    for address in addresses:
        address = (address or "").strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


def team_addresses(team: Team) -> list[str]:
    """A team's own email and its members' emails."""
    members = AgentProfile.objects.filter(teams=team).select_related("user").order_by("user__username")
    return unique_addresses([team.email, *(profile.user.email for profile in members)])


def resolve_teams(references: Iterable[Any]) -> list[Team]:
    """Teams named by id or name; an unknown one raises naming it."""
    return [resolve_team(reference) for reference in references]


def resolve_users(references: Iterable[Any]) -> list[Any]:
    """Users named by id, username or email; an unknown one raises naming it."""
    return [resolve_agent(reference) for reference in references]


def split_addresses(value: Any) -> list[str]:
    """A list of addresses, or one string of comma- or semicolon-separated addresses (rendered templates)."""
    items = value if isinstance(value, list) else [value]
    return [part.strip() for item in items if item for part in str(item).replace(";", ",").split(",") if part.strip()]


def check_addresses(addresses: Iterable[str], key: str) -> list[str]:
    """The addresses, or a ValidationError on `key` naming the first malformed one."""
    addresses = list(addresses)
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({key: f'"{address}" is not an email address.'}) from None
    return addresses


def conversation_link(conversation: Conversation) -> str:
    """Where an agent opens the conversation (the admin change page)."""
    return str(helpdesk_setting("SITE_URL")) + reverse(
        "admin:conversations_conversation_change", args=[conversation.pk]
    )


def send(*, to: list[str], subject: str, body: str) -> None:
    """Send one email from DEFAULT_FROM_EMAIL; a backend failure becomes a ValidationError with its reason."""
    subject = " ".join((subject or "").split())[:250]  # headers cannot carry newlines
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP errors, refused connections, bad headers: all mean "not delivered"
        raise ValidationError(f"The email could not be sent: {type(exc).__name__}: {exc}") from exc

"""Reads of the conversations domain that services, steps and the API share: find a team or an agent by id or
name (docs/api.md: step configs may name either)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from conversations.choices import Status
from conversations.models import Conversation, ConversationLink, LinkKind, Team

User = get_user_model()


def require_clean_reference(reference: Any, field: str) -> None:
    """A name with a NUL character can name nothing (and PostgreSQL refuses it in a query)."""
    if isinstance(reference, str) and "\x00" in reference:
        raise ValidationError({field: _("A name cannot contain NUL characters.")})


def resolve_team(reference: Any) -> Team:
    """Find a team by id or by name (docs/api.md: step configs may name teams either way)."""
    team = None
    if isinstance(reference, Team):
        return reference
    require_clean_reference(reference, "team")
    if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
        team = Team.objects.filter(pk=int(reference)).first()
    if team is None and isinstance(reference, str):
        team = Team.objects.filter(name__iexact=reference.strip()).first()
    if team is None:
        raise ValidationError({"team": _('No team "%(reference)s".') % {"reference": reference}})
    return team


def resolve_agent(reference: Any):
    """Find an agent (user) by id, username or email."""
    if isinstance(reference, User):
        return reference
    require_clean_reference(reference, "agent")
    user = None
    if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
        user = User.objects.filter(pk=int(reference)).first()
    if user is None and isinstance(reference, str):
        user = User.objects.filter(username=reference).first() or User.objects.filter(email__iexact=reference).first()
    if user is None:
        raise ValidationError({"agent": _('No agent "%(reference)s".') % {"reference": reference}})
    return user


def children_of(conversation) -> QuerySet:
    """The conversations linked as children of `conversation` (either side of the link may have made it)."""
    as_child = ConversationLink.objects.filter(conversation=conversation.pk, kind=LinkKind.CHILD).values("other")
    as_parent = ConversationLink.objects.filter(other=conversation.pk, kind=LinkKind.PARENT).values("conversation")
    return Conversation.objects.filter(Q(pk__in=as_child) | Q(pk__in=as_parent))


def open_children(conversation) -> QuerySet:
    """Children not yet resolved or closed, oldest first (resolving their parent waits for them)."""
    return children_of(conversation).exclude(status__in=[Status.RESOLVED, Status.CLOSED]).order_by("pk")

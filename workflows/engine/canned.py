"""Canned responses: saved answers with placeholders, inserted into the reply box and edited before sending.

Unlike a macro, a canned response changes nothing by itself: `canned_response_render` fills its placeholders from the
conversation (the data and sandbox a workflow's reply uses) and the agent sends the text as their own reply.
Shared ones are the managers'; a personal one (`owner`) is seen and changed by its owner only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from conversations.models import Conversation
from workflows.engine import context
from workflows.models import CannedResponse

MAX_BODY = 10_000
_UNSET: Any = object()


def _validate_name(name: Any, owner: Any, canned: CannedResponse | None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": _("A canned response needs a name.")})
    stripped: str = name.strip()
    if len(stripped) > 200:
        raise ValidationError({"name": _("A name has at most 200 characters.")})
    same = CannedResponse.objects.filter(name__iexact=stripped, owner=owner)
    if canned is not None:
        same = same.exclude(pk=canned.pk)
    if same.exists():
        raise ValidationError({"name": _('A canned response named "%(name)s" exists already.') % {"name": stripped}})
    return stripped


def _validate_body(body: Any) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationError({"body": _("Write the text of the response.")})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": _("At most %(max)s characters.") % {"max": MAX_BODY}})
    problem = context.template_error(body)
    if problem:
        raise ValidationError({"body": problem})
    return body


def canned_response_check(*, name: Any, body: Any, owner: Any = None, canned: CannedResponse | None = None) -> None:
    """Raise the ValidationError create/update would, by field, without saving (the admin form's check)."""
    errors: dict[str, list[str]] = {}
    checks: list[Callable[[], str]] = [lambda: _validate_name(name, owner, canned), lambda: _validate_body(body)]
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def canned_response_create(*, name: str, body: str, created_by: Any = None, owner: Any = None) -> CannedResponse:
    """Save a new canned response (`owner` set: a personal one) after checking its name and template."""
    return CannedResponse.objects.create(
        name=_validate_name(name, owner, None), body=_validate_body(body), created_by=created_by, owner=owner
    )


def canned_response_update(*, canned: CannedResponse, name: str = _UNSET, body: str = _UNSET) -> CannedResponse:
    """Change a canned response's name or text; checked as on create."""
    if name is not _UNSET:
        canned.name = _validate_name(name, canned.owner, canned)
    if body is not _UNSET:
        canned.body = _validate_body(body)
    canned.save()
    return canned


def canned_responses_for(user: Any) -> QuerySet[CannedResponse]:
    """The canned responses a user may read and insert: the shared ones and their own, by name."""
    return CannedResponse.objects.filter(Q(owner__isnull=True) | Q(owner=user)).order_by("name", "id")


def render_context(conversation: Conversation) -> dict[str, Any]:
    """The data a response's placeholders read: the conversation and its contact as a workflow run sees them."""
    return {
        "conversation": context.conversation_data(conversation),
        "contact": context.contact_data(conversation.contact),
    }


def canned_response_render(*, canned: CannedResponse, conversation: Conversation) -> str:
    """The response's text with its placeholders filled from the conversation; a placeholder that cannot be
    rendered is a ValidationError naming it (nothing is sent)."""
    try:
        return context.render(canned.body, render_context(conversation))
    except context.RenderError as exc:
        raise ValidationError({"body": str(exc)}) from exc

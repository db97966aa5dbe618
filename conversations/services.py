"""Every change to the conversations domain, one function per change (SPEC §2).

Each function validates its input, writes inside `transaction.atomic()` and records a domain event in the same
transaction, so the change and its event commit or roll back together. Admin actions, API views and workflow
steps all call these functions; nothing else writes domain state. `depth` is 0 for people and API clients and
parent depth + 1 when a workflow step makes the change (loop protection, SPEC §7).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from conversations import clock

from conversations.choices import (
    FINAL_DISPOSITIONS,
    PRIORITY_RANK,
    Channel,
    Disposition,
    EventType,
    Priority,
    SenderType,
    Status,
    SurveyChannel,
)
from conversations.events import record_event
from conversations.models import (
    AgentProfile,
    Contact,
    Conversation,
    Message,
    Recording,
    Survey,
    Tag,
    Team,
    Ticket,
    Transcript,
)
from conversations.phones import normalize_e164
from conversations.prefetch import remember_related
from conversations.safetext import find_text_problem
from conversations.sentiment import running_average, score_text

User = get_user_model()

MAX_BODY_LENGTH = 20_000
MAX_TAG_LENGTH = 100
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


def _require_choice(value: str, choices: type, field: str) -> str:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ValidationError({field: f'"{value}" is not one of: {allowed}.'})
    return value


def _clean_phone(phone: str | None) -> str:
    if not phone:
        return ""
    try:
        return normalize_e164(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc


def _require_object(value: Any, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError({field: "Expected a JSON object of keys and values."})
    # NUL (refused by PostgreSQL), lone surrogates (unrenderable once stored) and deep nesting, checked without
    # recursion before json.dumps recurses: a workflow step's data is held to the same rule as the API's.
    problem = find_text_problem(value)
    if problem:
        raise ValidationError({field: problem.describe()})
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: "Expected plain JSON values (text, numbers, booleans, lists, objects)."}) from exc
    return value


def _require_clean_reference(reference: Any, field: str) -> None:
    """A name with a NUL character can name nothing (and PostgreSQL refuses it in a query)."""
    if isinstance(reference, str) and "\x00" in reference:
        raise ValidationError({field: "A name cannot contain NUL characters."})


def _conversation_snapshot(conversation: Conversation) -> dict[str, Any]:
    return {"status": conversation.status, "priority": conversation.priority, "channel": conversation.channel}


# Contacts and teams ------------------------------------------------------------------------------------------


def contact_create(
    *, name: str, email: str = "", phone: str = "", segment: str = "", attributes: dict | None = None
) -> Contact:
    """Create a contact (phone normalised to E.164) and record `contact.created`."""
    contact = Contact(name=name, email=email or "", phone=_clean_phone(phone), segment=segment or "",
                      attributes=dict(_require_object(attributes, "attributes")))
    contact.full_clean()
    with transaction.atomic():
        contact.save()
        record_event(type=EventType.CONTACT_CREATED, contact=contact, payload={"contact_id": contact.pk})
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


def contact_update(
    *, contact: Contact, attributes_patch: dict | None = None, depth: int = 0, **fields: Any
) -> Contact:
    """Update name/email/phone/segment and merge attributes; record `contact.updated` with what changed."""
    unknown = set(fields) - {"name", "email", "phone", "segment"}
    if unknown:
        raise ValidationError({key: "Not a contact field." for key in unknown})
    if "phone" in fields:
        fields["phone"] = _clean_phone(fields["phone"])
    changed_fields = [key for key, value in fields.items() if getattr(contact, key) != value]
    for key in changed_fields:
        setattr(contact, key, fields[key])
    changed_keys: list[str] = []
    if _require_object(attributes_patch, "attributes"):
        contact.attributes, changed_keys = merge_attributes(contact.attributes or {}, attributes_patch)
    if not changed_fields and not changed_keys:
        return contact
    contact.full_clean()
    with transaction.atomic():
        contact.save()
        record_event(
            type=EventType.CONTACT_UPDATED,
            contact=contact,
            payload={"contact_id": contact.pk, "fields": changed_fields, "attributes": changed_keys},
            depth=depth,
        )
    return contact


def team_create(*, name: str, email: str = "") -> Team:
    """Create a team with a unique name."""
    team = Team(name=(name or "").strip(), email=email or "")
    team.full_clean()
    team.save()
    return team


def team_update(*, team: Team, **fields: Any) -> Team:
    """Rename a team or change its notification email (the only team fields people edit)."""
    unknown = set(fields) - {"name", "email"}
    if unknown:
        raise ValidationError({key: "Not a team field." for key in unknown})
    for key, value in fields.items():
        setattr(team, key, (value or "").strip())
    team.full_clean()
    team.save()
    return team


def team_delete(*, team: Team) -> None:
    """Delete a team that has no open conversations; open work must be reassigned first (with its events)."""
    open_count = team.conversations.filter(status__in=OPEN_STATUSES).count()
    if open_count:
        raise ValidationError({"team": f"The team has {open_count} open conversations; reassign them first."})
    team.delete()


def resolve_team(reference: Any) -> Team:
    """Find a team by id or by name (SPEC §10: step configs may name teams either way)."""
    team = None
    if isinstance(reference, Team):
        return reference
    _require_clean_reference(reference, "team")
    if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
        team = Team.objects.filter(pk=int(reference)).first()
    if team is None and isinstance(reference, str):
        team = Team.objects.filter(name__iexact=reference.strip()).first()
    if team is None:
        raise ValidationError({"team": f'No team "{reference}".'})
    return team


def resolve_agent(reference: Any):
    """Find an agent (user) by id, username or email."""
    if isinstance(reference, User):
        return reference
    _require_clean_reference(reference, "agent")
    user = None
    if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
        user = User.objects.filter(pk=int(reference)).first()
    if user is None and isinstance(reference, str):
        user = User.objects.filter(username=reference).first() or User.objects.filter(email__iexact=reference).first()
    if user is None:
        raise ValidationError({"agent": f'No agent "{reference}".'})
    return user


def agent_mark_assigned(*, agent, at=None) -> None:
    """Stamp when an agent last got a conversation: round-robin routing picks the one who has waited longest."""
    AgentProfile.objects.filter(user=agent).update(last_assigned_at=at or clock.now())


# Conversations -----------------------------------------------------------------------------------------------


def conversation_open(
    *,
    contact: Contact,
    channel: str,
    subject: str = "",
    priority: str = Priority.NORMAL,
    team: Team | None = None,
    depth: int = 0,
) -> Conversation:
    """Open a conversation (status `new`) and record `conversation.created`."""
    _require_choice(channel, Channel, "channel")
    _require_choice(priority, Priority, "priority")
    conversation = Conversation(contact=contact, channel=channel, subject=subject or "", priority=priority, team=team)
    # `contact` and `team` are rows already loaded by the caller: validating them would only re-read them.
    conversation.full_clean(exclude=["assignee", "contact", "team"])
    with transaction.atomic():
        conversation.save()
        remember_related(conversation, "tags", [])  # a new conversation has no tags: the response needs no read
        record_event(
            type=EventType.CONVERSATION_CREATED,
            conversation=conversation,
            payload={**_conversation_snapshot(conversation), "segment": contact.segment},
            depth=depth,
        )
    return conversation


def conversation_ref(pk: Any) -> Conversation:
    """A conversation known only by its id, for a service that locks (and so loads) it first, e.g. `message_create`:
    the caller saves a read. Raises `Conversation.DoesNotExist` (from the lock) when there is no such row, and
    `ValueError` right away for an id that cannot be one."""
    if isinstance(pk, bool) or not str(pk).isdigit() or not 0 < int(pk) < 2**63:
        raise ValueError(f"Not a conversation id: {pk!r}")
    return Conversation(pk=int(pk))


def _lock(conversation: Conversation) -> Conversation:
    """Reload the conversation under a row lock so concurrent changes serialise (no lost updates)."""
    locked = Conversation.objects.select_for_update().select_related("contact").get(pk=conversation.pk)
    conversation.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    conversation._state.adding, conversation._state.db = False, locked._state.db  # a `conversation_ref` is now loaded
    # Keep the contact loaded with the lock (it lives in `_state`): the event row reads it, so no second query.
    Conversation.contact.field.set_cached_value(conversation, locked.contact)
    return conversation


def conversation_change_status(
    *, conversation: Conversation, status: str, actor=None, depth: int = 0
) -> Conversation:
    """Move a conversation to `status`; record `conversation.status_changed` with from/to. No-op if unchanged."""
    _require_choice(status, Status, "status")
    with transaction.atomic():
        _lock(conversation)
        _change_status_locked(conversation, status, actor, depth)
    return conversation


def _change_status_locked(conversation: Conversation, status: str, actor, depth: int) -> None:
    """The status change itself, for callers already holding the row lock inside their transaction (a message
    that reopens its conversation): no second lock query and no savepoint."""
    previous = conversation.status
    if previous == status:
        return
    conversation.status = status
    if status in (Status.RESOLVED, Status.CLOSED):
        conversation.resolved_at = conversation.resolved_at or clock.now()
    else:
        conversation.resolved_at = None
    conversation.save(update_fields=["status", "resolved_at", "updated_at"])
    record_event(
        type=EventType.STATUS_CHANGED,
        conversation=conversation,
        payload={"from": previous, "to": status, "actor_id": getattr(actor, "pk", None)},
        depth=depth,
    )


_UNSET: Any = object()


def conversation_assign(
    *, conversation: Conversation, assignee: Any = _UNSET, team: Any = _UNSET, actor=None, depth: int = 0
) -> Conversation:
    """Assign an agent and/or a team (None clears); record `conversation.assigned` with before/after ids."""
    with transaction.atomic():
        _lock(conversation)
        before = {"assignee_id": conversation.assignee_id, "team_id": conversation.team_id}
        if assignee is not _UNSET:
            conversation.assignee = resolve_agent(assignee) if assignee is not None else None
        if team is not _UNSET:
            conversation.team = resolve_team(team) if team is not None else None
        after = {"assignee_id": conversation.assignee_id, "team_id": conversation.team_id}
        if before == after:
            return conversation
        conversation.save(update_fields=["assignee", "team", "updated_at"])
        record_event(
            type=EventType.ASSIGNED,
            conversation=conversation,
            payload={"before": before, **after, "actor_id": getattr(actor, "pk", None)},
            depth=depth,
        )
    return conversation


def conversation_set_priority(*, conversation: Conversation, priority: str, depth: int = 0) -> Conversation:
    """Change the priority; record `conversation.priority_changed`. No-op if unchanged."""
    _require_choice(priority, Priority, "priority")
    with transaction.atomic():
        _lock(conversation)
        previous = conversation.priority
        if previous == priority:
            return conversation
        conversation.priority = priority
        conversation.save(update_fields=["priority", "updated_at"])
        record_event(
            type=EventType.PRIORITY_CHANGED,
            conversation=conversation,
            payload={"from": previous, "to": priority},
            depth=depth,
        )
    return conversation


def conversation_raise_priority(*, conversation: Conversation, priority: str, depth: int = 0) -> Conversation:
    """Raise the priority to at least `priority`, never lowering it (escalations); a no-op when already as high."""
    _require_choice(priority, Priority, "priority")
    with transaction.atomic():
        _lock(conversation)
        if PRIORITY_RANK[conversation.priority] >= PRIORITY_RANK[priority]:
            return conversation
        return conversation_set_priority(conversation=conversation, priority=priority, depth=depth)


def _clean_tag_names(tags: Iterable[str]) -> list[str]:
    names = []
    for raw in tags:
        if not isinstance(raw, str) or not raw.strip():
            raise ValidationError({"tags": "Tags are non-empty strings."})
        name = raw.strip()
        if len(name) > MAX_TAG_LENGTH:
            raise ValidationError({"tags": f"A tag has at most {MAX_TAG_LENGTH} characters."})
        if name not in names:
            names.append(name)
    return names


def conversation_add_tags(*, conversation: Conversation, tags: Iterable[str], depth: int = 0) -> Conversation:
    """Add tags (created on first use); record `conversation.tags_changed` with the tags really added."""
    names = _clean_tag_names(tags)
    with transaction.atomic():
        current = set(conversation.tags.values_list("name", flat=True))
        added = [name for name in names if name not in current]
        if not added:
            return conversation
        for name in added:
            tag, _ = Tag.objects.get_or_create(name=name)
            conversation.tags.add(tag)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=clock.now())
        record_event(
            type=EventType.TAGS_CHANGED, conversation=conversation, payload={"added": added, "removed": []}, depth=depth
        )
    return conversation


def conversation_remove_tags(*, conversation: Conversation, tags: Iterable[str], depth: int = 0) -> Conversation:
    """Remove tags; record `conversation.tags_changed` with the tags really removed."""
    names = _clean_tag_names(tags)
    with transaction.atomic():
        removable = list(conversation.tags.filter(name__in=names))
        if not removable:
            return conversation
        conversation.tags.remove(*removable)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=clock.now())
        record_event(
            type=EventType.TAGS_CHANGED,
            conversation=conversation,
            payload={"added": [], "removed": [tag.name for tag in removable]},
            depth=depth,
        )
    return conversation


def conversation_set_tags(*, conversation: Conversation, tags: Iterable[str], depth: int = 0) -> Conversation:
    """Make the tag set exactly `tags` (the API's PATCH), through add and remove."""
    names = _clean_tag_names(tags)
    with transaction.atomic():
        current = set(conversation.tags.values_list("name", flat=True))
        conversation_remove_tags(conversation=conversation, tags=sorted(current - set(names)), depth=depth)
        conversation_add_tags(conversation=conversation, tags=names, depth=depth)
    return conversation


def conversation_set_disposition(
    *, conversation: Conversation, disposition: str, actor=None, depth: int = 0
) -> Conversation:
    """Set the disposition; record `conversation.disposition_set`. A final disposition also closes the case."""
    _require_choice(disposition, Disposition, "disposition")
    final = disposition in FINAL_DISPOSITIONS
    with transaction.atomic():
        _lock(conversation)
        if conversation.disposition == disposition and (not final or conversation.status == Status.CLOSED):
            return conversation
        conversation.disposition = disposition
        conversation.save(update_fields=["disposition", "updated_at"])
        record_event(
            type=EventType.DISPOSITION_SET,
            conversation=conversation,
            payload={"disposition": disposition, "final": final, "actor_id": getattr(actor, "pk", None)},
            depth=depth,
        )
        if final:
            conversation_change_status(conversation=conversation, status=Status.CLOSED, actor=actor, depth=depth)
    return conversation


# Messages ----------------------------------------------------------------------------------------------------


def _clean_buttons(buttons: Any) -> list[dict]:
    if not buttons:
        return []
    if not isinstance(buttons, list) or not all(
        isinstance(b, dict) and isinstance(b.get("label"), str) and b["label"].strip() for b in buttons
    ):
        raise ValidationError({"buttons": 'Buttons are a list of {"label", "url"?} objects.'})
    return [{"label": b["label"], **({"url": str(b["url"])} if b.get("url") else {})} for b in buttons]


def message_create(
    *,
    conversation: Conversation,
    body: str,
    sender_type: str,
    author=None,
    internal: bool = False,
    buttons: list | None = None,
    depth: int = 0,
) -> Message:
    """Post a message; keep sentiment, response timestamps and status in step; record `message.created`.

    A customer message reopens a pending or resolved conversation; the first public agent reply opens a new one
    and stamps the first response (what agents expect from Zendesk or Chatwoot).
    """
    _require_choice(sender_type, SenderType, "sender_type")
    if body is not None and not isinstance(body, str):
        raise ValidationError({"body": "A message body is text."})
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "A message needs a body."})
    if len(body) > MAX_BODY_LENGTH:
        raise ValidationError({"body": f"A message has at most {MAX_BODY_LENGTH} characters."})
    is_customer = sender_type == SenderType.CUSTOMER
    if is_customer and internal:
        raise ValidationError({"internal": "Customers cannot write internal notes."})
    message = Message(conversation=conversation, sender_type=sender_type, author=author, body=body,
                      internal=bool(internal), buttons=_clean_buttons(buttons))
    with transaction.atomic():
        _lock(conversation)
        sentiment_before = conversation.sentiment
        now = clock.now()
        if is_customer:
            message.sentiment = score_text(body)
            conversation.sentiment = running_average(
                conversation.sentiment, conversation.customer_message_count, message.sentiment
            )
            conversation.customer_message_count += 1
            conversation.last_customer_message_at = now
        elif not internal:
            conversation.last_agent_message_at = now
            if sender_type == SenderType.AGENT and conversation.first_response_at is None:
                conversation.first_response_at = now
        message.save()
        conversation.save(update_fields=[
            "sentiment", "customer_message_count", "last_customer_message_at", "last_agent_message_at",
            "first_response_at", "updated_at",
        ])
        record_event(
            type=EventType.MESSAGE_CREATED,
            conversation=conversation,
            payload={
                "message_id": message.pk,
                "sender_type": sender_type,
                "internal": message.internal,
                "channel": conversation.channel,
                "sentiment": message.sentiment,
                "sentiment_before": sentiment_before,
                "sentiment_after": conversation.sentiment,
            },
            depth=depth,
        )
        _follow_message_with_status(conversation, sender_type, message.internal, depth)
    return message


def _follow_message_with_status(conversation: Conversation, sender_type: str, internal: bool, depth: int) -> None:
    """Runs inside `message_create`'s transaction, which already holds the conversation's row lock."""
    if sender_type == SenderType.CUSTOMER and conversation.status in (Status.PENDING, Status.RESOLVED):
        _change_status_locked(conversation, Status.OPEN, None, depth)
    elif sender_type == SenderType.AGENT and not internal and conversation.status == Status.NEW:
        _change_status_locked(conversation, Status.OPEN, None, depth)


# Recordings, transcripts, tickets, surveys -------------------------------------------------------------------

MAX_RECORDING_BYTES = 50 * 1024 * 1024


def recording_attach(*, conversation: Conversation, file: UploadedFile, depth: int = 0) -> Recording:
    """Store an audio file on the conversation; record `recording.uploaded`."""
    content_type = getattr(file, "content_type", "") or ""
    if not (content_type.startswith("audio/") or content_type in ("", "application/octet-stream")):
        raise ValidationError({"file": f"Expected an audio file, got {content_type}."})
    if file.size > MAX_RECORDING_BYTES:
        raise ValidationError({"file": "A recording has at most 50 MB."})
    with transaction.atomic():
        recording = Recording.objects.create(
            conversation=conversation, file=file, content_type=content_type, size_bytes=file.size
        )
        record_event(
            type=EventType.RECORDING_UPLOADED,
            conversation=conversation,
            payload={"recording_id": recording.pk, "channel": conversation.channel},
            depth=depth,
        )
    return recording


def transcript_create(*, recording: Recording, text: str, language: str, backend: str, depth: int = 0) -> Transcript:
    """Keep a transcript of a recording and post it as an internal note on the conversation."""
    with transaction.atomic():
        transcript = Transcript.objects.create(recording=recording, text=text, language=language, backend=backend)
        message_create(
            conversation=recording.conversation,
            body=f"Transcript of recording {recording.pk}:\n{text or '(no speech recognised)'}",
            sender_type=SenderType.SYSTEM,
            internal=True,
            depth=depth,
        )
    return transcript


def ticket_create(
    *, conversation: Conversation, title: str, description: str = "", priority: str = Priority.NORMAL, depth: int = 0
) -> Ticket:
    """Open a ticket linked to the conversation; record `ticket.created`."""
    _require_choice(priority, Priority, "priority")
    ticket = Ticket(conversation=conversation, title=(title or "").strip(), description=description or "",
                    priority=priority)
    ticket.full_clean()
    with transaction.atomic():
        ticket.save()
        record_event(type=EventType.TICKET_CREATED, conversation=conversation,
                     payload={"ticket_id": ticket.pk, "title": ticket.title}, depth=depth)
    return ticket


def survey_create(*, conversation: Conversation, question: str, via: str = SurveyChannel.EMAIL, depth: int = 0,
                  token: str | None = None) -> Survey:
    """Create a CSAT survey (with a fresh token, or the one whose link was already sent); record `survey.sent`.
    Delivery is the caller's job."""
    _require_choice(via, SurveyChannel, "via")
    with transaction.atomic():
        survey = Survey(conversation=conversation, contact=conversation.contact, question=question, via=via)
        if token:
            survey.token = token
        survey.full_clean()
        survey.save()
        record_event(type=EventType.SURVEY_SENT, conversation=conversation,
                     payload={"survey_id": survey.pk, "via": via}, depth=depth)
    return survey


def survey_answer(*, survey: Survey, score: int, comment: str = "") -> Survey:
    """Record the one answer a survey takes (1-5); a second answer is refused."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": "The score is a whole number from 1 to 5."})
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.answered_at is not None:
            raise ValidationError({"token": "This survey has already been answered."})
        locked.score, locked.comment, locked.answered_at = score, comment or "", clock.now()
        locked.save(update_fields=["score", "comment", "answered_at"])
        record_event(type=EventType.SURVEY_ANSWERED, conversation=locked.conversation,
                     payload={"survey_id": locked.pk, "score": score})
    return locked

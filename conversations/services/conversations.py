"""Conversations: open, change status, assign, priority, tags, disposition; each under the row lock
and with its event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations import clock, payloads
from conversations.choices import (
    FINAL_DISPOSITIONS,
    PRIORITY_RANK,
    Channel,
    Disposition,
    EventType,
    Priority,
    Status,
)
from conversations.events import record_event
from conversations.models import (
    AgentProfile,
    Contact,
    Conversation,
    Inbox,
    Tag,
    Team,
)
from conversations.prefetch import remember_related
from conversations.routing.queue import request_fill
from conversations.routing.state import sync_queue_fields
from conversations.selectors import open_children, resolve_agent, resolve_team
from conversations.services.checks import (
    MAX_TAG_LENGTH,
    require_choice,
)
from conversations.services.fields import check_can_resolve
from conversations.services.locks import lock_conversation
from conversations.statements import Statement
from conversations.writes import insert_row

User = get_user_model()


def conversation_open(
    *,
    contact: Contact,
    channel: str,
    subject: str = "",
    priority: str = Priority.NORMAL,
    team: Team | None = None,
    depth: int = 0,
    inbox: Inbox | None = None,
) -> Conversation:
    """Open a conversation (status `new`) and record `conversation.created`. In an inbox (docs/channels.md) the channel is
    the inbox's and the team defaults to the inbox's."""
    if inbox is not None:
        channel, team = inbox.channel, team or inbox.team
    require_choice(channel, Channel, "channel")
    require_choice(priority, Priority, "priority")
    conversation = Conversation(
        contact=contact, channel=channel, subject=subject or "", priority=priority, team=team, inbox=inbox
    )
    # `contact`, `team` and `inbox` are rows already loaded by the caller: validating them would only re-read them.
    # `full_clean` without `validate_unique`: a conversation has no unique field but its key, unset on a new row, so
    # that step would only work out (~80 µs of CPU per create) that there is nothing to check
    # (tests/conversations/test_write_path.py keeps that true).
    excluded = ["assignee", "contact", "team", "inbox"]
    conversation.clean_fields(exclude=excluded)
    conversation.clean()
    conversation.validate_constraints(exclude=excluded)
    sync_queue_fields(conversation)
    with transaction.atomic():
        insert_row(conversation)  # conversation.save(), the INSERT built once per process
        remember_related(conversation, "tags", [])  # a new conversation has no tags: the response needs no read
        record_event(
            type=EventType.CONVERSATION_CREATED,
            conversation=conversation,
            payload=payloads.conversation_created(conversation=conversation, segment=contact.segment),
            depth=depth,
        )
        if team is not None and team.auto_assign:
            request_fill(team_ids=[team.pk])
    return conversation


def conversation_ref(pk: Any) -> Conversation:
    """A conversation known only by its id, for a service that locks (and so loads) it first, e.g. `message_create`:
    the caller saves a read. Raises `Conversation.DoesNotExist` (from the lock) when there is no such row, and
    `ValueError` right away for an id that cannot be one."""
    if isinstance(pk, bool) or not str(pk).isdigit() or not 0 < int(pk) < 2**63:
        raise ValueError(f"Not a conversation id: {pk!r}")
    return Conversation(pk=int(pk))


# Built once per process (conversations.statements): the tags a tag change reads (the row lock is in services/locks.py).
_TAG_NAMES = Statement(
    Tag, lambda slot: Tag.objects.filter(conversations=slot("pk", "id", Conversation)).values_list("name")
)
_PRIORITY = Statement(
    Conversation, lambda slot: Conversation.objects.filter(pk=slot("pk", "id")).values_list("priority")
)


def conversation_change_status(*, conversation: Conversation, status: str, actor=None, depth: int = 0) -> Conversation:
    """Move a conversation to `status`; record `conversation.status_changed` with from/to. No-op if unchanged."""
    require_choice(status, Status, "status")
    _refuse_resolving_parent(conversation, status)
    with transaction.atomic():
        lock_conversation(conversation)
        change_status_locked(conversation, status, actor, depth)
    return conversation


def change_status_locked(
    conversation: Conversation, status: str, actor, depth: int, *, wake_reason: str = "status_changed"
) -> None:
    """The status change itself, for callers already holding the row lock inside their transaction (a message
    that reopens its conversation): no second lock query and no savepoint. Any status but `pending` ends a snooze
    (recording `conversation.unsnoozed` with `wake_reason`)."""
    if status != Status.PENDING and conversation.snoozed_until is not None:
        _end_snooze_locked(conversation, wake_reason, depth)
    previous = conversation.status
    if previous == status:
        return
    if status in (Status.RESOLVED, Status.CLOSED) and previous not in (Status.RESOLVED, Status.CLOSED):
        check_can_resolve(conversation)  # required_on_resolve fields (docs/managers.md), for API, admin and steps alike
    conversation.status = status
    if status in (Status.RESOLVED, Status.CLOSED):
        conversation.resolved_at = conversation.resolved_at or clock.now()
    else:
        conversation.resolved_at = None
    queue_fields = sync_queue_fields(conversation)
    conversation.save(update_fields=["status", "resolved_at", "updated_at", *queue_fields])
    # A resolution frees the assignee's seat; a reopened unassigned conversation joins its queue again.
    request_fill(team_ids=[conversation.team_id], agent_id=conversation.assignee_id)
    record_event(
        type=EventType.STATUS_CHANGED,
        conversation=conversation,
        payload=payloads.status_changed(previous=previous, status=status, actor=actor),
        depth=depth,
    )


def _end_snooze_locked(conversation: Conversation, reason: str, depth: int) -> None:
    snoozed_until, conversation.snoozed_until = conversation.snoozed_until, None
    conversation.save(update_fields=["snoozed_until", "updated_at"])
    record_event(
        type=EventType.UNSNOOZED,
        conversation=conversation,
        payload=payloads.unsnoozed(reason=reason, snoozed_until=snoozed_until),
        depth=depth,
    )


def _refuse_resolving_parent(conversation: Conversation, status: str) -> None:
    """A parent is resolved only once its children are: a 400 naming the first open child (docs/agent_day.md)."""
    if status != Status.RESOLVED:
        return
    child = open_children(conversation).first()
    if child is not None:
        raise ValidationError(
            {
                "status": _(
                    "Resolve the child conversation #%(child_pk)s (%(value1)s) first: it is still %(child_status)s."
                )
                % {"child_pk": child.pk, "value1": child.subject or "no subject", "child_status": child.status}
            }
        )


_UNSET: Any = object()


def conversation_assign(
    *,
    conversation: Conversation,
    assignee: Any = _UNSET,
    team: Any = _UNSET,
    actor=None,
    depth: int = 0,
    reason: str = "",
) -> Conversation:
    """Assign an agent and/or a team (None clears); record `conversation.assigned` with before/after ids.

    Assigning by hand is always allowed (capacity is the queue's rule, not a person's). The new assignee's agent
    profile is locked first, so a queue fill never counts that seat at the same moment (see `routing.queue`).
    `reason` is for the queue's hand-backs (`agent_offline`, `no_reply`): the agent taken back from is remembered.
    """
    with transaction.atomic():
        new_assignee = resolve_agent(assignee) if assignee not in (_UNSET, None) else None
        if new_assignee is not None:
            list(AgentProfile.objects.select_for_update().filter(user=new_assignee).values_list("pk", flat=True))
        lock_conversation(conversation)
        before = {"assignee_id": conversation.assignee_id, "team_id": conversation.team_id}
        if assignee is not _UNSET:
            conversation.assignee = new_assignee
        if team is not _UNSET:
            conversation.team = resolve_team(team) if team is not None else None
        after = {"assignee_id": conversation.assignee_id, "team_id": conversation.team_id}
        if before == after:
            return conversation
        _follow_assignment(conversation, before, reason)
        conversation.save(
            update_fields=["assignee", "team", "updated_at", "assigned_at", "queued_since", "handed_back_by"]
        )
        record_event(
            type=EventType.ASSIGNED,
            conversation=conversation,
            payload=payloads.assigned(before=before, after=after, actor=actor, reason=reason),
            depth=depth,
        )
        request_fill(team_ids=[before["team_id"], conversation.team_id], agent_id=before["assignee_id"])
    return conversation


def _follow_assignment(conversation: Conversation, before: dict, reason: str) -> None:
    """Keep the routing fields in step with a new assignee or team (in memory, saved by the caller)."""
    if conversation.assignee_id != before["assignee_id"]:
        conversation.assigned_at = clock.now() if conversation.assignee_id else None
        if reason and before["assignee_id"]:
            conversation.handed_back_by_id = before["assignee_id"]
        elif conversation.assignee_id:
            conversation.handed_back_by_id = None
    if conversation.team_id != before["team_id"] and conversation.assignee_id is None:
        conversation.queued_since = None  # a new team's queue: it waits there from now on
    sync_queue_fields(conversation)


def conversation_set_priority(*, conversation: Conversation, priority: str, depth: int = 0) -> Conversation:
    """Change the priority; record `conversation.priority_changed`. No-op if unchanged."""
    require_choice(priority, Priority, "priority")
    # Inside the caller's transaction (a workflow's steps) a priority already set costs one narrow read, not the
    # conversation's lock (the whole row and its contact): nothing is written, and the write transaction already
    # holds SQLite's lock. Alone (the API), the read stays under the lock.
    if transaction.get_connection().in_atomic_block and _has_priority(conversation, priority):
        conversation.priority = priority
        return conversation
    with transaction.atomic():
        lock_conversation(conversation)
        previous = conversation.priority
        if previous == priority:
            return conversation
        conversation.priority = priority
        conversation.save(update_fields=["priority", "updated_at"])
        record_event(
            type=EventType.PRIORITY_CHANGED,
            conversation=conversation,
            payload=payloads.priority_changed(previous=previous, priority=priority),
            depth=depth,
        )
    return conversation


def _has_priority(conversation: Conversation, priority: str) -> bool:
    rows = _PRIORITY.rows(pk=conversation.pk)
    return len(rows) == 1 and rows[0][0] == priority


def conversation_raise_priority(*, conversation: Conversation, priority: str, depth: int = 0) -> Conversation:
    """Raise the priority to at least `priority`, never lowering it (escalations); a no-op when already as high."""
    require_choice(priority, Priority, "priority")
    with transaction.atomic():
        lock_conversation(conversation)
        if PRIORITY_RANK[conversation.priority] >= PRIORITY_RANK[priority]:
            return conversation
        return conversation_set_priority(conversation=conversation, priority=priority, depth=depth)


def _clean_tag_names(tags: Iterable[str]) -> list[str]:
    names = []
    for raw in tags:
        if not isinstance(raw, str) or not raw.strip():
            raise ValidationError({"tags": _("Tags are non-empty strings.")})
        name = raw.strip()
        if len(name) > MAX_TAG_LENGTH:
            raise ValidationError(
                {"tags": _("A tag has at most %(MAX_TAG_LENGTH)s characters.") % {"MAX_TAG_LENGTH": MAX_TAG_LENGTH}}
            )
        if name not in names:
            names.append(name)
    return names


def _tags_to_add(conversation: Conversation, names: list[str]) -> list[str]:
    current = {name for (name,) in _TAG_NAMES.rows(pk=conversation.pk)}
    return [name for name in names if name not in current]


def conversation_add_tags(*, conversation: Conversation, tags: Iterable[str], depth: int = 0) -> Conversation:
    """Add tags (created on first use); record `conversation.tags_changed` with the tags really added."""
    names = _clean_tag_names(tags)
    # Inside the caller's transaction (a workflow's steps) the read needs no savepoint of its own: a tag already
    # there costs no SAVEPOINT/RELEASE. Alone (the API), the read stays inside the write transaction.
    added = _tags_to_add(conversation, names) if transaction.get_connection().in_atomic_block else None
    if added == []:
        return conversation
    with transaction.atomic():
        added = _tags_to_add(conversation, names) if added is None else added
        if not added:
            return conversation
        for name in added:
            tag, _ = Tag.objects.get_or_create(name=name)
            conversation.tags.add(tag)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=clock.now())
        record_event(
            type=EventType.TAGS_CHANGED,
            conversation=conversation,
            payload=payloads.tags_changed(added=added),
            depth=depth,
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
            payload=payloads.tags_changed(removed=[tag.name for tag in removable]),
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
    require_choice(disposition, Disposition, "disposition")
    final = disposition in FINAL_DISPOSITIONS
    with transaction.atomic():
        lock_conversation(conversation)
        if conversation.disposition == disposition and (not final or conversation.status == Status.CLOSED):
            return conversation
        conversation.disposition = disposition
        conversation.save(update_fields=["disposition", "updated_at"])
        record_event(
            type=EventType.DISPOSITION_SET,
            conversation=conversation,
            payload=payloads.disposition_set(disposition=disposition, final=final, actor=actor),
            depth=depth,
        )
        if final:
            conversation_change_status(conversation=conversation, status=Status.CLOSED, actor=actor, depth=depth)
    return conversation

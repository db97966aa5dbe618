"""Keeps `ConversationFacts` true: `project_event` runs in the transaction of every domain event (registered by
`ReportsConfig.ready`, as the SLA clocks are) and handles `conversation.status_changed`; `facts_from_events` derives
the same rows from recorded events, for conversations older than the table (the data migration uses it).

The service recording a status change holds the conversation's row lock, so two changes of one conversation never
race here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import F, Value
from django.db.models.functions import Coalesce

from conversations.choices import EventType, SenderType, Status
from conversations.models import Event
from reports.business import business_minutes, calendar_of_conversation
from reports.models import ConversationFacts
from reports.rows import row_refresh

# Events that move a report row's inputs whatever their payload (reports.rows): creation, team or assignee, merges.
ROW_EVENTS = (EventType.CONVERSATION_CREATED, EventType.ASSIGNED, EventType.MERGED)
FIRST_RESPONSE_STAMP_WINDOW = dt.timedelta(seconds=5)
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
LEFT_RESOLVED = (Status.RESOLVED, Status.CLOSED)


def project_event(event: Event) -> None:
    """A change to `resolved` stamps the resolution (and the assignee then, and its business minutes); a later
    change to an open status marks the conversation reopened; the first public agent message stamps the first
    response's business minutes. Other events are ignored. Each of these, and the events of ROW_EVENTS, recomputes
    the conversation's report row (reports.rows)."""
    if event.conversation_id is None:
        return
    if event.type == EventType.MESSAGE_CREATED:
        if _project_first_response(event):
            row_refresh(conversation_id=event.conversation_id)
        return
    if event.type in ROW_EVENTS:
        row_refresh(conversation_id=event.conversation_id)
        return
    if event.type != EventType.STATUS_CHANGED:
        return
    to = (event.payload or {}).get("to")
    if to == Status.RESOLVED:
        conversation = event.conversation
        minutes = business_minutes(
            calendar_of_conversation(conversation.pk), conversation.created_at, event.occurred_at
        )
        resolution = {
            "last_resolved_at": event.occurred_at,
            "resolved_assignee_id": conversation.assignee_id,
            "resolution_business_minutes": minutes,
        }
        updated = ConversationFacts.objects.filter(pk=event.conversation_id).update(
            first_resolved_at=Coalesce(F("first_resolved_at"), Value(event.occurred_at)), **resolution
        )
        if not updated:
            ConversationFacts.objects.create(
                conversation_id=event.conversation_id, first_resolved_at=event.occurred_at, **resolution
            )
        row_refresh(conversation_id=event.conversation_id)
    elif (
        # After a resolution the status stays resolved or closed until it is set to an open one, so the first
        # change reopening it comes from one of those two: other changes (new -> open) cost no query.
        to in OPEN_STATUSES
        and (event.payload or {}).get("from") in LEFT_RESOLVED
        and ConversationFacts.objects.filter(pk=event.conversation_id, reopened=False).update(reopened=True)
    ):
        row_refresh(conversation_id=event.conversation_id)


def _project_first_response(event: Event) -> bool:
    """The first public agent message (`first_response_at`, stamped by message_create): its business minutes. True
    when it was that message."""
    payload = event.payload or {}
    if payload.get("sender_type") != SenderType.AGENT or payload.get("internal"):
        return False
    conversation = event.conversation
    first = conversation.first_response_at
    # message_create stamps `first_response_at` just before it records the event, in the same transaction: a later
    # reply finds an older stamp and costs no query here.
    if first is None or event.occurred_at - first > FIRST_RESPONSE_STAMP_WINDOW:
        return False
    minutes = business_minutes(calendar_of_conversation(conversation.pk), conversation.created_at, first)
    ConversationFacts.objects.bulk_create(
        [ConversationFacts(conversation_id=conversation.pk, first_response_business_minutes=minutes)],
        update_conflicts=True,
        unique_fields=["conversation"],
        update_fields=["first_response_business_minutes"],
    )
    return True


def facts_from_events(
    changes: Iterable[tuple[int, Any, str]], assignments: Iterable[tuple[int, Any, Any]]
) -> Iterator[dict]:
    """Rows of `ConversationFacts` from (conversation id, occurred at, to) status changes and (conversation id,
    occurred at, assignee id) assignments, each sorted by conversation then time: the same rules as the projector,
    the assignee at resolution being the last assignment at or before it."""
    assignments = iter(assignments)
    pending = next(assignments, None)
    current: dict | None = None
    assignee: dict[int, Any] = {}
    for conversation_id, occurred_at, to in changes:
        while pending is not None and (pending[0], pending[1]) <= (conversation_id, occurred_at):
            assignee[pending[0]] = pending[2]
            pending = next(assignments, None)
        if current is not None and current["conversation_id"] != conversation_id:
            yield current
            current = None
        if to == Status.RESOLVED:
            if current is None:
                current = {"conversation_id": conversation_id, "first_resolved_at": occurred_at, "reopened": False}
            current.update(last_resolved_at=occurred_at, resolved_assignee_id=assignee.get(conversation_id))
        elif to in OPEN_STATUSES and current is not None:
            current["reopened"] = True
    if current is not None:
        yield current

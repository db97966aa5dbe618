"""The domain event outbox: write an event row inside the change's transaction, hand it to the queue after commit.

Other apps never get called from here by import (dependencies point one way). They plug in through two hooks:
- `HELPDESK_EVENT_TASK`: the dotted path of the django-q2 task that consumes a committed event (the dispatcher);
- `register_projector`: a function run inside the same transaction for every event, for read models that must
  never disagree with the domain (the SLA clocks).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from conversations import clock
from conversations.models import Contact, Conversation, Event

logger = logging.getLogger(__name__)

Projector = Callable[[Event], None]
WAKE_UP_EVERY = 25
_projectors: list[Projector] = []


def register_projector(projector: Projector) -> None:
    """Run `projector(event)` in the writing transaction of every event (idempotent registration)."""
    if projector not in _projectors:
        _projectors.append(projector)


def record_event(
    *,
    type: str,
    conversation: Conversation | None = None,
    contact: Contact | None = None,
    payload: dict[str, Any] | None = None,
    depth: int = 0,
) -> Event:
    """Write an event row now and enqueue its dispatch once the surrounding transaction commits."""
    if contact is None and conversation is not None:
        contact = conversation.contact
    event = Event.objects.create(
        type=type,
        occurred_at=clock.now(),
        conversation=conversation,
        contact=contact,
        payload=payload or {},
        depth=depth,
    )
    for projector in _projectors:
        projector(event)
    transaction.on_commit(lambda: enqueue_event(event.pk))
    return event


def record_events(events: list[dict[str, Any]]) -> list[Event]:
    """`record_event` for a batch (keys: type, conversation, payload, depth): one INSERT for all the rows, then the
    same projectors and after-commit wake-ups, so a sweep emitting many events at once pays one round trip."""
    rows = [
        Event(type=spec["type"], occurred_at=clock.now(), conversation=spec["conversation"],
              contact=spec.get("contact") or spec["conversation"].contact, payload=spec.get("payload") or {},
              depth=spec.get("depth", 0))
        for spec in events
    ]
    Event.objects.bulk_create(rows)
    for event in rows:
        for projector in _projectors:
            projector(event)
    # The consumer (HELPDESK_EVENT_TASK) drains every pending event once woken, so a batch needs one wake-up per
    # WAKE_UP_EVERY events, not one queue message each; an event a drain misses is still found by the sweep.
    transaction.on_commit(lambda: [enqueue_event(event.pk) for event in rows[::WAKE_UP_EVERY]])
    return rows


def enqueue_event(event_id: Any) -> None:
    """Wake a worker for one event. A failure here loses nothing: the sweep re-enqueues undispatched events."""
    from django_q.tasks import async_task

    try:
        async_task(settings.HELPDESK_EVENT_TASK, str(event_id), task_name=f"event-{event_id}", group="events")
    except Exception:  # the queue is only a wake-up call; the outbox row stays and the sweep picks it up
        logger.exception("Could not enqueue event %s; the sweep will pick it up", event_id)

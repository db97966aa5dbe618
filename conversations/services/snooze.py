"""Snooze (docs/agent_day.md): a conversation waits as `pending` until a time or until the customer writes, then opens again.

Snoozing records `conversation.snoozed`; waking records `conversation.unsnoozed` with its reason. The wake-up itself
lives in `change_status_locked` (any status but `pending` ends a snooze), so a customer message, a person's status
change and the periodic sweep (`conversation_wake_due_snoozes`, called from the workflows sweep) end it the same way.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations import clock, payloads
from conversations.choices import EventType, Status
from conversations.events import record_event
from conversations.models import Conversation
from conversations.services.conversations import change_status_locked, lock_conversation

WAKE_BATCH = 200
UNSNOOZABLE = (Status.RESOLVED, Status.CLOSED)


def conversation_snooze(*, conversation: Conversation, until: dt.datetime, actor=None, depth: int = 0) -> Conversation:
    """Set the conversation `pending` until `until` (a future, aware time); record `conversation.snoozed`."""
    if until is None or until.tzinfo is None:
        raise ValidationError({"until": _("Give a date and time with its time zone.")})
    if until <= clock.now():
        raise ValidationError({"until": _("Give a time in the future.")})
    with transaction.atomic():
        lock_conversation(conversation)
        if conversation.status in UNSNOOZABLE:
            raise ValidationError(
                {
                    "until": _("A %(value0)s conversation cannot be snoozed.")
                    % {"value0": conversation.get_status_display().lower()}
                }
            )
        change_status_locked(conversation, Status.PENDING, actor, depth)
        conversation.snoozed_until = until
        conversation.save(update_fields=["snoozed_until", "updated_at"])
        record_event(
            type=EventType.SNOOZED,
            conversation=conversation,
            payload=payloads.snoozed(until=until, actor=actor),
            depth=depth,
        )
    return conversation


def conversation_wake_due_snoozes(*, now: dt.datetime | None = None) -> int:
    """Open every conversation whose snooze has ended (each in its own transaction); returns how many woke."""
    now = now or clock.now()
    ids = list(
        Conversation.objects.filter(snoozed_until__lte=now)
        .order_by("snoozed_until")
        .values_list("pk", flat=True)[:WAKE_BATCH]
    )
    woken = 0
    for pk in ids:
        with transaction.atomic():
            conversation = lock_conversation(Conversation(pk=pk))
            if conversation.snoozed_until is None or conversation.snoozed_until > now:
                continue  # woken meanwhile (a customer message) or snoozed again for later
            change_status_locked(conversation, Status.OPEN, None, 0, wake_reason="time")
            woken += 1
    return woken

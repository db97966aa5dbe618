"""Deliveries: a public answer on an inbox's conversation leaves through a `Delivery` row (docs/channels.md).

The row is written in the message's own transaction with its external id already fixed (the mail's `Message-ID`,
or the API channel's `webhook-id`), so a crash before, during or after a send never sends it under a second id.
After commit one django-q2 task named by `HELPDESK_DELIVERY_TASK` wakes a sender; the sender app (`inboxes`) is
never imported from here (dependencies point one way), and the periodic sweep picks up whatever a lost queue
message left behind.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations import clock
from conversations.choices import DeliveryStatus, InboxChannel, SenderType
from conversations.conf import helpdesk_setting
from conversations.models import Conversation, Delivery, Inbox, Message

logger = logging.getLogger(__name__)

# Who speaks for the team: their public messages are sent; a customer's message came from outside already.
DELIVERED_SENDERS = frozenset({SenderType.AGENT, SenderType.AI, SenderType.SYSTEM})


def should_deliver(message: Message, deliver: bool | None) -> bool:
    """`deliver` forces the choice (False for stored auto-replies and bounces); None decides by the sender."""
    if message.internal:
        return False
    if deliver is not None:
        return deliver
    return message.sender_type in DELIVERED_SENDERS


def external_id_for(inbox: Inbox) -> str:
    """The id a delivery keeps across every attempt: `<uuid@domain>` for mail (the domain of the inbox address,
    else of DEFAULT_FROM_EMAIL), `msg_<hex>` for an API inbox's `webhook-id`."""
    token = uuid.uuid4().hex
    if inbox.channel == InboxChannel.API:
        return f"msg_{token}"
    address = inbox.address or getattr(settings, "DEFAULT_FROM_EMAIL", "") or "helpdesk@localhost"
    domain = address.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<{token}@{domain}>"


def delivery_queue(*, message: Message, conversation: Conversation, deliver: bool | None = None) -> Delivery | None:
    """Inside the message's transaction: the queued delivery of a public team message on an inbox's conversation
    (None otherwise), and its wake-up after commit."""
    if conversation.inbox_id is None or not should_deliver(message, deliver):
        return None
    inbox = Inbox.objects.filter(pk=conversation.inbox_id, active=True).first()
    if inbox is None:
        return None
    delivery = Delivery.objects.create(
        message=message,
        inbox=inbox,
        status=DeliveryStatus.QUEUED,
        external_id=external_id_for(inbox),
        next_attempt_at=clock.now(),
    )
    transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
    return delivery


def delivery_retry(*, delivery: Delivery) -> Delivery:
    """Send a failed delivery again (same external id, so receivers that saw it dedupe); its attempts start over."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.QUEUED, attempts=0, error="", next_attempt_at=clock.now(), lease_until=None
        )
        if not updated:
            raise ValidationError({"delivery": _("Only a failed delivery can be retried.")})
        transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
    delivery.refresh_from_db()
    return delivery


def enqueue_delivery(delivery_id: int) -> None:
    """Wake a sender for one delivery. A failure here loses nothing: the sweep sends due deliveries."""
    from django_q.tasks import async_task

    try:
        async_task(
            helpdesk_setting("DELIVERY_TASK"), delivery_id, task_name=f"delivery-{delivery_id}", group="deliveries"
        )
    except Exception:
        logger.exception("Could not enqueue delivery %s; the sweep will pick it up", delivery_id)

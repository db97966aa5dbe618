"""The sender: claims due deliveries with a lease, sends each with no transaction open, then records the outcome.

Durability (docs/api.md, §13), the same rules as workflow runs:
- The external id (Message-ID or webhook-id) is fixed when the delivery row is written with its message, before the
  first attempt. Every attempt — a retry, a manual Retry, the sweep after a crash — sends under that id.
- A sender claims a row by setting `lease_until` (a conditional UPDATE; on PostgreSQL the candidates are first
  row-locked with `select_for_update(skip_locked=True)`, so concurrent senders split a batch instead of colliding),
  and counts the attempt in that same UPDATE.
- The row is marked `sent` right after the server accepted it. At-least-once edge: a sender killed between the
  server's acceptance and that UPDATE leaves the row queued with its lease; once the lease expires the sweep sends it
  again with the SAME Message-ID (or webhook-id), which mail clients and webhook receivers dedupe. It is never sent
  under two ids, and never lost.
- A transient failure (connection refused, timeout, SMTP 4xx, HTTP 5xx/429) is retried with the engine's backoff
  until `HELPDESK_RETRY_MAX_ATTEMPTS`; a permanent one (SMTP 5xx, HTTP 4xx, a blocked or disabled endpoint) marks
  the delivery failed with the error, for an agent to Retry.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.db.models import F, Q

from conversations import clock
from conversations.choices import DeliveryStatus, InboxChannel
from conversations.conf import helpdesk_setting
from conversations.models import Delivery
from inboxes.outbound import callback, email
from inboxes.outbound.outcome import SendFailure
from workflows.steps.outbound import backoff_seconds

logger = logging.getLogger(__name__)

BATCH = 50
ERROR_LENGTH = 1000


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=helpdesk_setting("DELIVERY_LEASE_SECONDS"))


def claimable(now: dt.datetime) -> Q:
    """Queued deliveries that are due and held by no live sender (never leased, or the lease expired)."""
    return Q(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )


def claim(delivery_id: int) -> Delivery | None:
    """Take one delivery for this sender (lease + attempt counted in one conditional UPDATE), or None."""
    claimed = claim_batch([delivery_id])
    return claimed[0] if claimed else None


def claim_batch(delivery_ids: list[int]) -> list[Delivery]:
    """Take the deliveries among `delivery_ids` that are still claimable, in one conditional UPDATE. The lease's
    expiry (to the microsecond) identifies this claim's rows when they are read back."""
    now = clock.now()
    until = now + lease()
    with transaction.atomic():
        rows = Delivery.objects.filter(claimable(now), pk__in=delivery_ids)
        if connection.features.has_select_for_update_skip_locked:
            rows = Delivery.objects.filter(
                pk__in=list(rows.select_for_update(skip_locked=True).values_list("pk", flat=True))
            )
        if not rows.update(lease_until=until, attempts=F("attempts") + 1):
            return []
    return list(
        Delivery.objects.select_related(
            "inbox", "message__conversation__contact", "message__conversation__team", "message__author"
        )
        .prefetch_related("message__attachments")
        .filter(pk__in=delivery_ids, lease_until=until, status=DeliveryStatus.QUEUED)
        .order_by("pk")
    )


def due_ids(now: dt.datetime, limit: int | None = None) -> list[int]:
    """Ids of due deliveries, oldest due first; on PostgreSQL those other senders hold row locks on are skipped."""
    limit = limit or BATCH
    rows = Delivery.objects.filter(claimable(now)).order_by("next_attempt_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            return list(rows.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
    return list(rows.values_list("pk", flat=True)[:limit])


def send_delivery(delivery_id: int) -> str | None:
    """Claim and send one delivery; its status afterwards, or None when it was not due or another sender has it."""
    statuses = send_batch([delivery_id])
    return statuses[0] if statuses else None


def send_batch(delivery_ids: list[int]) -> list[str]:
    """Claim the deliveries that are still due and send them one after the other, mails of one inbox over one SMTP
    session; the status of each claimed one afterwards."""
    claimed = claim_batch(delivery_ids)
    with email.SmtpSessions() as sessions:
        sessions.preload_threads([d for d in claimed if d.inbox.channel == InboxChannel.EMAIL])
        return [_send_claimed(delivery, sessions) for delivery in claimed]


def _send_claimed(delivery: Delivery, sessions) -> str:
    try:
        sender_for(delivery)(delivery, sessions)
    except SendFailure as failure:
        return _record_failure(delivery, failure)
    except Exception as exc:  # a bug or an unreadable file: fail visibly rather than retry forever
        logger.exception("Delivery %s crashed", delivery.pk)
        return _record_failure(delivery, SendFailure(f"{type(exc).__name__}: {exc}", transient=False))
    return DeliveryStatus.SENT


def sender_for(delivery: Delivery):
    """The send function of the delivery's channel (a table, not a ladder); each takes (delivery, sessions)."""
    return {InboxChannel.EMAIL: email.send_email_delivery, InboxChannel.API: callback.send_callback_delivery}[
        delivery.inbox.channel
    ]


def _record_failure(delivery: Delivery, failure: SendFailure) -> str:
    """A transient failure with attempts left is retried after the backoff; anything else fails the delivery."""
    error = failure.error[:ERROR_LENGTH]
    if failure.transient and delivery.attempts < helpdesk_setting("RETRY_MAX_ATTEMPTS"):
        delay = backoff_seconds(delivery.attempts, failure.retry_after)
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.QUEUED).update(
            lease_until=None,
            next_attempt_at=clock.now() + dt.timedelta(seconds=delay),
            error=f"{error} (retry {delivery.attempts} in {delay:.0f}s)",
        )
        return DeliveryStatus.QUEUED
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.FAILED, lease_until=None, next_attempt_at=None, error=error
    )
    return DeliveryStatus.FAILED


def sweep_deliveries(now: dt.datetime | None = None) -> int:
    """Send every delivery that is due now: fresh ones whose queue message was lost, retries whose backoff passed,
    and ones whose sender died (lease expired). Returns how many were sent or settled by this pass."""
    return len(send_batch(due_ids(now or clock.now())))


def next_due_at() -> dt.datetime | None:
    """When the next queued delivery falls due (for a sweep deciding whether to keep going)."""
    return (
        Delivery.objects.filter(status=DeliveryStatus.QUEUED)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )

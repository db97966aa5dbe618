"""What a channel's sender reports back to the worker: `SendFailure` (transient or not) and `mark_sent` (below the
worker and the channel senders, which both use them, so the worker imports its senders and not the reverse)."""

from __future__ import annotations

from dataclasses import dataclass

from conversations import clock
from conversations.choices import DeliveryStatus
from conversations.models import Delivery


@dataclass
class SendFailure(Exception):
    """A send that did not go through; `transient` says whether a later attempt may succeed."""

    error: str
    transient: bool
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.error


def mark_sent(delivery: Delivery) -> None:
    """The send went through: one UPDATE (the caller may add rows in the same transaction)."""
    now = clock.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT, sent_at=now, lease_until=None, next_attempt_at=None, error=""
    )
    delivery.status, delivery.sent_at, delivery.error = DeliveryStatus.SENT, now, ""

"""django-q2 entry points of the channels room (thin: they call the poller and the sender) and the poll schedule.
Tasks receive ids, reload rows and are safe to run twice."""

from __future__ import annotations

import time

from django_q.models import Schedule

from conversations import clock
from conversations.conf import helpdesk_setting
from inboxes.imap import poll_all_inboxes
from inboxes.outbound import worker

SWEEP_WINDOW_SECONDS = 55  # the schedule fires about once a minute; the sweep covers the minute itself


def send_delivery_task(delivery_id: int) -> str | None:
    """Wake-up for a queued delivery (HELPDESK_DELIVERY_TASK): send it unless another sender holds it or it is not
    due; then send whatever else is due, so one queue message can serve a burst."""
    status = worker.send_delivery(int(delivery_id))
    worker.sweep_deliveries()
    return status


def sweep_deliveries_task() -> int:
    """The scheduled sweep: due, retried and stuck (lease expired) deliveries, every HELPDESK_SWEEP_SECONDS for the
    rest of the minute while something falls due within it."""
    total = worker.sweep_deliveries()
    deadline = time.monotonic() + SWEEP_WINDOW_SECONDS
    interval = max(1, helpdesk_setting("SWEEP_SECONDS"))
    while time.monotonic() + interval < deadline:
        upcoming = worker.next_due_at()
        if upcoming is None or (upcoming - clock.now()).total_seconds() > deadline - time.monotonic():
            break
        time.sleep(interval)
        total += worker.sweep_deliveries()
    return total


POLL_TASK = "inboxes.tasks.poll_imap_inboxes_task"
POLL_SCHEDULE_NAME = "helpdesk: poll IMAP inboxes"


def poll_imap_inboxes_task() -> dict:
    """Read every active email inbox with IMAP settings once."""
    return poll_all_inboxes()


def ensure_poll_schedule() -> Schedule:
    """Create (or repair) the schedule that polls IMAP every HELPDESK_IMAP_POLL_SECONDS (rounded up to minutes,
    django-q2's finest schedule unit, at least one)."""
    seconds = int(helpdesk_setting("IMAP_POLL_SECONDS"))
    schedule, _ = Schedule.objects.update_or_create(
        name=POLL_SCHEDULE_NAME,
        defaults={
            "func": POLL_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": max(1, -(-seconds // 60)),
            "repeats": -1,
        },
    )
    return schedule


def ensure_poll_schedule_after_migrate(**kwargs) -> None:
    """post_migrate receiver: the schedule table exists only after migrate."""
    ensure_poll_schedule()

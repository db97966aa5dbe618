"""django-q2 entry points of the channels room (thin: they call the poller) and the poll schedule."""
from __future__ import annotations

from django_q.models import Schedule

from conversations.conf import helpdesk_setting

POLL_TASK = "inboxes.tasks.poll_imap_inboxes_task"
POLL_SCHEDULE_NAME = "helpdesk: poll IMAP inboxes"


def poll_imap_inboxes_task() -> dict:
    """Read every active email inbox with IMAP settings once."""
    from inboxes.imap import poll_all_inboxes

    return poll_all_inboxes()


def ensure_poll_schedule() -> Schedule:
    """Create (or repair) the schedule that polls IMAP every HELPDESK_IMAP_POLL_SECONDS (rounded up to minutes,
    django-q2's finest schedule unit, at least one)."""
    seconds = int(helpdesk_setting("IMAP_POLL_SECONDS"))
    schedule, _ = Schedule.objects.update_or_create(
        name=POLL_SCHEDULE_NAME,
        defaults={"func": POLL_TASK, "schedule_type": Schedule.MINUTES, "minutes": max(1, -(-seconds // 60)),
                  "repeats": -1},
    )
    return schedule


def ensure_poll_schedule_after_migrate(**kwargs) -> None:
    """post_migrate receiver: the schedule table exists only after migrate."""
    ensure_poll_schedule()

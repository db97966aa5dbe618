"""The django-q2 schedule of the delivery sweep, created once and kept in the database (like the workflow sweep's
in workflows/engine/schedules.py, but owned here so the engine never imports the channels room)."""

from django_q.models import Schedule

SWEEP_TASK = "inboxes.tasks.sweep_deliveries_task"


def ensure_delivery_sweep_schedule() -> Schedule:
    """Create (or repair) the every-minute delivery sweep; safe to call any number of times."""
    schedule, _ = Schedule.objects.update_or_create(
        name="helpdesk: delivery sweep",
        defaults={"func": SWEEP_TASK, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
    return schedule


def ensure_schedules_after_migrate(**kwargs) -> None:
    """post_migrate receiver: the schedule table exists only after migrate."""
    ensure_delivery_sweep_schedule()

"""The django-q2 schedule that runs the engine's sweep, created once and kept in the database."""

from typing import Any

from django_q.models import Schedule

SWEEP_TASK = "workflows.tasks.sweep_task"


def ensure_sweep_schedule() -> Schedule:
    """Create (or repair) the every-minute sweep schedule; safe to call any number of times."""
    schedule, _ = Schedule.objects.update_or_create(
        name="helpdesk: workflow sweep",
        defaults={"func": SWEEP_TASK, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
    return schedule


def ensure_schedules_after_migrate(**kwargs: Any) -> None:
    """post_migrate receiver: the schedule table exists only after migrate."""
    ensure_sweep_schedule()

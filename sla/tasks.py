"""django-q2 entry points of the SLA app: the periodic sweep and its schedule."""
from __future__ import annotations

import math

from django.conf import settings

from sla.sweep import SweepResult, run_sweep

SCHEDULE_NAME = "sla-sweep"
SWEEP_TASK = "sla.tasks.sla_sweep_task"


def sla_sweep_task() -> str:
    """Run one sweep (idempotent: a second run or a second worker emits nothing twice)."""
    result: SweepResult = run_sweep()
    return f"{result.warnings} warnings, {result.breaches} breaches"


def sweep_minutes(seconds: int) -> int:
    """django-q2 schedules in whole minutes; HELPDESK_SLA_SWEEP_SECONDS is rounded up to at least one minute."""
    return max(1, math.ceil(seconds / 60))


def ensure_sla_schedule() -> bool:
    """Create or refresh the one Schedule row of the sweep. Returns True when it had to be written."""
    from django_q.models import Schedule

    minutes = sweep_minutes(settings.HELPDESK_SLA_SWEEP_SECONDS)
    schedule = Schedule.objects.filter(name=SCHEDULE_NAME).first()
    wanted = (SWEEP_TASK, Schedule.MINUTES, minutes)
    if schedule and (schedule.func, schedule.schedule_type, schedule.minutes) == wanted:
        return False
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": SWEEP_TASK, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
    )
    return True


def ensure_sla_schedule_after_migrate(**kwargs) -> None:
    """post_migrate receiver: the Schedule table exists only after migrate."""
    ensure_sla_schedule()

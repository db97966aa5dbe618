"""django-q2 entry points of the SLA app: the periodic sweep and its schedule.

django-q2 schedules fire at most once a minute, so for `HELPDESK_SLA_SWEEP_SECONDS` under 60 (default 30) the
scheduled task sweeps, then sweeps again every that many seconds until the minute is over — but only while a
warning point or due time falls inside the minute, so an idle helpdesk costs one short task a minute.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable

from conversations import clock
from conversations.conf import helpdesk_setting
from sla.sweep import SweepResult, next_due_at, run_sweep

SCHEDULE_NAME = "sla-sweep"
SWEEP_TASK = "sla.tasks.sla_sweep_task"
SWEEP_WINDOW_SECONDS = 55  # the schedule fires about once a minute; the task covers the minute itself


def _sweep_again(interval: int, window_end: dt.datetime) -> bool:
    """Another sweep fits before the next scheduled one and something falls due before then."""
    next_sweep = clock.now() + dt.timedelta(seconds=interval)
    upcoming = next_due_at()
    return next_sweep < window_end and upcoming is not None and upcoming <= window_end


def sla_sweep_task(sleep: Callable[[float], None] = time.sleep) -> str:
    """Sweep now and every HELPDESK_SLA_SWEEP_SECONDS for the rest of the minute while something falls due.

    Idempotent: a second run or a second worker emits nothing twice.
    """
    interval = max(1, helpdesk_setting("SLA_SWEEP_SECONDS"))
    window_end = clock.now() + dt.timedelta(seconds=SWEEP_WINDOW_SECONDS)
    result: SweepResult = run_sweep()
    warnings, breaches = result.warnings, result.breaches
    while interval < 60 and _sweep_again(interval, window_end):
        sleep(interval)
        result = run_sweep()
        warnings, breaches = warnings + result.warnings, breaches + result.breaches
    return f"{warnings} warnings, {breaches} breaches"


def sweep_minutes(seconds: int) -> int:
    """The schedule's period in whole minutes (django-q2's unit): at least one, rounded up."""
    return max(1, math.ceil(seconds / 60))


def ensure_sla_schedule() -> bool:
    """Create or refresh the one Schedule row of the sweep. Returns True when it had to be written."""
    from django_q.models import Schedule

    minutes = sweep_minutes(helpdesk_setting("SLA_SWEEP_SECONDS"))
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

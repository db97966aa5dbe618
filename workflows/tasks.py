"""django-q2 entry points of the engine. Tasks receive ids, reload rows and are safe to run twice."""

from __future__ import annotations

import os
import time

from conversations import clock
from conversations.conf import helpdesk_setting
from workflows.engine import drain, drain_gate, replay, runner, sweep

SWEEP_WINDOW_SECONDS = 55  # the django-q2 schedule fires about once a minute; the sweep covers the minute itself
DRAIN_SECONDS = 30  # how long one woken worker keeps draining (well under the task timeout)


def dispatch_event_task(event_id: str) -> int:
    """Wake-up for a committed event: dispatch it, then drain every other undispatched event for up to
    DRAIN_SECONDS (docs/operations.md: throughput is not bounded by one queue message per event). On a SQLite file
    one worker of the host drains at a time unless a backlog waits (`drain_gate`). Returns the runs started."""
    from django_q.conf import Conf

    yield_cpu_to_the_web()
    return drain_gate.drain_gated(drain.drain_events, event_id, DRAIN_SECONDS, pause_seconds=Conf.POLL)


def yield_cpu_to_the_web() -> None:
    """Run this worker process at HELPDESK_WORKER_NICENESS (once; the kernel keeps it): where workers share cores
    with the web server, a saturated machine serves API requests first and the workers catch up in its spare time.
    Never in the in-process queue (tests, sync mode), where the task runs in the caller's own process."""
    from django_q.conf import Conf

    wanted = helpdesk_setting("WORKER_NICENESS")
    if Conf.SYNC or wanted <= 0:
        return
    current = os.nice(0)
    if current < wanted:
        os.nice(wanted - current)


def execute_run_task(run_id: int) -> str | None:
    """Execute (or resume) one run, if it is due and no other worker holds it."""
    return runner.execute_run(run_id)


def sweep_task() -> dict[str, int]:
    """Sweep now, then keep sweeping every HELPDESK_SWEEP_SECONDS for the rest of the minute, but only while
    something falls due within it (django-q2 schedules cannot fire more often than once a minute). Under
    `helpdesk_supervisor`, which sweeps every HELPDESK_SWEEP_SECONDS itself, one pass: a worker is not held for a
    minute, and the sweeps that piled up behind a wedged cluster finish at once after its restart."""
    total = sweep.sweep_once()
    if helpdesk_setting("SWEEP_IN_SUPERVISOR"):
        return total
    deadline = time.monotonic() + SWEEP_WINDOW_SECONDS
    interval = max(1, helpdesk_setting("SWEEP_SECONDS"))
    while time.monotonic() + interval < deadline:
        upcoming = sweep.next_due_at()
        if upcoming is None or (upcoming - clock.now()).total_seconds() > deadline - time.monotonic():
            break
        time.sleep(interval)
        for key, count in sweep.sweep_once().items():
            total[key] = total.get(key, 0) + count
    return total


def replay_chunk_task(replay_id: int) -> bool:
    """One chunk of a replay ("try on history"); it enqueues the next chunk itself while events remain."""
    return replay.replay_run_chunk(replay_id)

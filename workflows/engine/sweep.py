"""The sweep: picks up everything that is due from the database, so a lost queue message delays work but never
loses it (docs/operations.md). It dispatches events whose message was lost, resumes waits and retries, reclaims runs
whose worker died, and asks the trigger families for the events time made due (schedules, scheduled events) and the
events that match only now (late SLA breaches). Every claim is a conditional UPDATE, so any
number of sweeps on any number of hosts do each piece of work once.
"""

from __future__ import annotations

import datetime as dt
import logging

from conversations import clock
from conversations import services as conversation_services
from conversations.choices import EventType
from conversations.models import Event
from conversations.routing.handback import routing_sweep
from workflows.choices import ScheduledEventStatus, WorkflowStatus
from workflows.engine.dispatcher import create_run
from workflows.engine.drain import drain_batch, release_abandoned_runs
from workflows.engine.leases import hand_back_dead_leases
from workflows.engine.replay import resume_stalled_replays
from workflows.engine.runner import claimable, execute_run
from workflows.models import ScheduledEvent, Workflow, WorkflowRun
from workflows.privacy.erase import erase_expired_conversations
from workflows.triggers import registry as triggers

logger = logging.getLogger(__name__)

BATCH = 200
EVENT_GRACE = dt.timedelta(seconds=5)  # leave fresh events to their own queue message first


def dispatch_lost_events(now: dt.datetime) -> int:
    """Dispatch events still undispatched some seconds after they happened (their queue message was lost)."""
    ids = list(
        Event.objects.filter(dispatched_at__isnull=True, occurred_at__lte=now - EVENT_GRACE)
        .order_by("occurred_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    if ids:
        drain_batch(ids)
    return len(ids)


def resume_due_runs(now: dt.datetime) -> int:
    """Execute runs that are queued, due after a wait or retry, or stuck with an expired lease."""
    ids = list(WorkflowRun.objects.filter(claimable(now)).order_by("resume_at").values_list("pk", flat=True)[:BATCH])
    return sum(1 for run_id in ids if execute_run(run_id) is not None)


def record_time_triggers(now: dt.datetime) -> int:
    """Let trigger families record the events time has made due (schedules, scheduled events)."""
    return sum(kind.sweep(now) for kind in triggers.trigger_types.with_hook("sweep") if kind.sweep is not None)


def start_late_matches(now: dt.datetime) -> int:
    """Start the runs of events that match a workflow only now (a breach once it is `threshold_minutes` late)."""
    pairs = [
        pair
        for kind in triggers.trigger_types.with_hook("late_matches")
        if kind.late_matches is not None
        for pair in kind.late_matches(now)
    ]
    run_ids = [run.pk for workflow, event in pairs if (run := create_run(workflow, event))]
    for run_id in run_ids:
        execute_run(run_id)
    return len(run_ids)


def sweep_once() -> dict[str, int]:
    """One pass over everything due now; returns what it did (for logs and tests)."""
    release_abandoned_runs()
    hand_back_dead_leases()
    now = clock.now()
    done = {
        "time_triggers": record_time_triggers(now),
        "events": dispatch_lost_events(now),
        "late_matches": start_late_matches(now),
    }
    done["snoozes_woken"] = conversation_services.conversation_wake_due_snoozes(now=now)
    done["routed"] = sum(routing_sweep(now).values())  # no-reply hand-backs, then every queue filled (docs/routing.md)
    done["runs"] = resume_due_runs(clock.now())
    done["replays"] = resume_stalled_replays(now)
    done["erased"] = erase_expired_conversations()
    if any(done.values()):
        logger.info("Sweep: %s", done)
    return done


def next_due_at() -> dt.datetime | None:
    """The earliest moment something becomes due (a wait, a retry, a scheduled event, a schedule trigger)."""
    candidates = [
        WorkflowRun.objects.filter(claimable(clock.now() + dt.timedelta(days=3650)))
        .order_by("resume_at")
        .values_list("resume_at", flat=True)
        .first(),
        ScheduledEvent.objects.filter(status=ScheduledEventStatus.PENDING)
        .order_by("fire_at")
        .values_list("fire_at", flat=True)
        .first(),
        Workflow.objects.filter(
            trigger_type=EventType.SCHEDULE, status=WorkflowStatus.ACTIVE, next_schedule_at__isnull=False
        )
        .order_by("next_schedule_at")
        .values_list("next_schedule_at", flat=True)
        .first(),
    ]
    return min((moment for moment in candidates if moment), default=None)

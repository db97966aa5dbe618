"""The sweep: picks up everything that is due from the database, so a lost queue message delays work but never
loses it (SPEC §7). It dispatches events whose message was lost, resumes waits and retries, reclaims runs whose
worker died, fires scheduled events and evaluates `schedule` triggers. Every claim is a conditional UPDATE, so any
number of sweeps on any number of hosts do each piece of work once.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from conversations import clock
from conversations.choices import EventType
from conversations.conf import helpdesk_setting
from conversations.events import record_event
from conversations.choices import SenderType, Status
from conversations.models import Conversation, Event, Message
from sla.models import Metric, SlaTarget, TargetState
from workflows import conditions, triggers
from workflows.choices import ScheduledEventStatus, WorkflowStatus
from workflows.dispatcher import create_run
from workflows.drain import (  # noqa: F401 (dispatch_and_run, drain_events: the drain's old home)
    dispatch_and_run, drain_batch, drain_events, release_abandoned_runs)
from workflows.models import ScheduledEvent, ScheduleMatch, Workflow, WorkflowRun
from workflows.runner import claimable, execute_run

logger = logging.getLogger(__name__)

BATCH = 200
EVENT_GRACE = dt.timedelta(seconds=5)  # leave fresh events to their own queue message first
# How long after reaching its threshold a breach may still start its workflow (covers sweeps that were down); it
# bounds the breach events each sweep reads again.
LATE_BREACH_LOOKBACK = dt.timedelta(hours=6)


def dispatch_lost_events(now: dt.datetime) -> int:
    """Dispatch events still undispatched some seconds after they happened (their queue message was lost)."""
    ids = list(Event.objects.filter(dispatched_at__isnull=True, occurred_at__lte=now - EVENT_GRACE)
               .order_by("occurred_at").values_list("pk", flat=True)[:BATCH])
    if ids:
        drain_batch(ids)
    return len(ids)


def resume_due_runs(now: dt.datetime) -> int:
    """Execute runs that are queued, due after a wait or retry, or stuck with an expired lease."""
    ids = list(WorkflowRun.objects.filter(claimable(now)).order_by("resume_at").values_list("pk", flat=True)[:BATCH])
    return sum(1 for run_id in ids if execute_run(run_id) is not None)


def fire_scheduled_events(now: dt.datetime) -> int:
    """Turn due, uncleared scheduled events into `scheduled_event.fired` events (each exactly once)."""
    fired = 0
    for scheduled in ScheduledEvent.objects.filter(status=ScheduledEventStatus.PENDING, fire_at__lte=now)[:BATCH]:
        with transaction.atomic():
            claimed = ScheduledEvent.objects.filter(pk=scheduled.pk, status=ScheduledEventStatus.PENDING).update(
                status=ScheduledEventStatus.FIRED, fired_at=now)
            if claimed:
                record_event(type=EventType.SCHEDULED_EVENT_FIRED, conversation=scheduled.conversation,
                             payload={"name": scheduled.name, "scheduled_event_id": scheduled.pk,
                                      "scheduled_at": scheduled.created_at.isoformat()},
                             depth=scheduled.depth)
                fired += 1
    return fired


def run_schedule_triggers(now: dt.datetime) -> int:
    """For each due `schedule` workflow: fire once per newly matching conversation; forget ones that stopped."""
    fired = 0
    due = Workflow.objects.filter(trigger_type=EventType.SCHEDULE, status=WorkflowStatus.ACTIVE,
                                  next_schedule_at__lte=now)
    for workflow in due:
        interval = dt.timedelta(minutes=workflow.trigger_config.get("interval_minutes", 60))
        claimed = Workflow.objects.filter(pk=workflow.pk, next_schedule_at=workflow.next_schedule_at).update(
            next_schedule_at=now + interval)
        if claimed:
            fired += _fire_schedule(workflow, now)
    return fired


def _fire_schedule(workflow: Workflow, now: dt.datetime) -> int:
    query = conditions.to_q(workflow.trigger_config.get("match") or {}, now)
    matching = set(Conversation.objects.filter(query).values_list("pk", flat=True).distinct())
    already = set(ScheduleMatch.objects.filter(workflow=workflow).values_list("conversation_id", flat=True))
    ScheduleMatch.objects.filter(workflow=workflow, conversation_id__in=already - matching).delete()
    new = sorted(matching - already)
    for conversation in Conversation.objects.filter(pk__in=new).select_related("contact"):
        with transaction.atomic():
            ScheduleMatch.objects.create(workflow=workflow, conversation=conversation)
            record_event(type=EventType.SCHEDULE, conversation=conversation,
                         payload={"workflow_id": workflow.pk, "interval_minutes":
                                  workflow.trigger_config.get("interval_minutes")})
    return len(new)


def start_late_breach_runs(now: dt.datetime) -> int:
    """Start `sla.breached` workflows with a `threshold_minutes` once a breach is that late and still unanswered.

    The breach event is recorded when the target breaches, too early for them; here it is matched again (the run
    stays one per workflow and event). Only breach events of the last threshold + LATE_BREACH_LOOKBACK are read,
    and only those late enough cost a query.
    """
    late_workflows = [workflow for workflow in Workflow.objects.filter(
        trigger_type=EventType.SLA_BREACHED, status=WorkflowStatus.ACTIVE)
        if (workflow.trigger_config or {}).get("threshold_minutes")]
    run_ids = []
    for workflow in late_workflows:
        threshold = dt.timedelta(minutes=float(workflow.trigger_config["threshold_minutes"]))
        breaches = (Event.objects.filter(type=EventType.SLA_BREACHED, occurred_at__gte=now - threshold -
                                         LATE_BREACH_LOOKBACK, depth__lte=helpdesk_setting("MAX_DEPTH"))
                    .exclude(workflow_runs__workflow=workflow).select_related("conversation"))
        for event in list(breaches):
            if _late_enough(workflow, event, now) and _still_breached(event) and (run := create_run(workflow, event)):
                run_ids.append(run.pk)
    for run_id in run_ids:
        execute_run(run_id)
    return len(run_ids)


def _late_enough(workflow: Workflow, event: Event, now: dt.datetime) -> bool:
    payload = event.payload or {}
    due_at = dt.datetime.fromisoformat(payload["due_at"]) if payload.get("due_at") else event.occurred_at
    return triggers.sla_breach_matches(workflow.trigger_config, payload.get("metric"),
                                       (now - due_at).total_seconds() / 60)


def _still_breached(event: Event) -> bool:
    """The target is still breached and nobody has made up for it: no agent reply since it was due (response
    metrics) or the conversation not resolved (resolution). Closing a conversation drops its response targets."""
    payload = event.payload or {}
    target = SlaTarget.objects.filter(pk=payload.get("target_id"), state=TargetState.BREACHED).first()
    if target is None or event.conversation is None:
        return False
    if target.metric == Metric.RESOLUTION:
        return event.conversation.status not in (Status.RESOLVED, Status.CLOSED)
    return not Message.objects.filter(conversation=event.conversation, sender_type=SenderType.AGENT, internal=False,
                                      created_at__gte=target.due_at).exists()


def sweep_once() -> dict[str, int]:
    """One pass over everything due now; returns what it did (for logs and tests)."""
    release_abandoned_runs()
    now = clock.now()
    done = {
        "scheduled_events": fire_scheduled_events(now),
        "schedule_triggers": run_schedule_triggers(now),
        "events": dispatch_lost_events(now),
        "late_breaches": start_late_breach_runs(now),
    }
    done["runs"] = resume_due_runs(clock.now())
    if any(done.values()):
        logger.info("Sweep: %s", done)
    return done


def next_due_at() -> dt.datetime | None:
    """The earliest moment something becomes due (a wait, a retry, a scheduled event, a schedule trigger)."""
    candidates = [
        WorkflowRun.objects.filter(claimable(clock.now() + dt.timedelta(days=3650))).order_by("resume_at")
        .values_list("resume_at", flat=True).first(),
        ScheduledEvent.objects.filter(status=ScheduledEventStatus.PENDING).order_by("fire_at")
        .values_list("fire_at", flat=True).first(),
        Workflow.objects.filter(trigger_type=EventType.SCHEDULE, status=WorkflowStatus.ACTIVE,
                                next_schedule_at__isnull=False).order_by("next_schedule_at")
        .values_list("next_schedule_at", flat=True).first(),
    ]
    return min((moment for moment in candidates if moment), default=None)

"""The dispatcher: turn one committed event into runs of the active workflows whose trigger matches it.

Idempotent by construction: the (workflow, event) unique constraint means a redelivered event creates no second
run, and the event is marked dispatched in the same transaction as its runs. That transaction also claims the event:
where the database can lock rows (PostgreSQL) the row is taken with `select_for_update(skip_locked=True)`, so two
workers never wait on each other for one event; everywhere the final conditional UPDATE (still undispatched?) decides,
and a worker that loses it rolls its runs back. Matching reads happen before the transaction, so the SQLite write
lock is held only for the inserts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from conversations import clock
from conversations.choices import EventType
from conversations.events import record_event
from conversations.models import Event
from workflows import triggers
from workflows.choices import RunStatus, WorkflowStatus
from workflows.context import LazyContext
from workflows.models import Workflow, WorkflowRun

logger = logging.getLogger(__name__)


def candidate_workflows(event: Event) -> list[Workflow]:
    """Active workflows of the event's trigger type (an indexed lookup; other trigger types are never read)."""
    kind = triggers.trigger_type(event.type)
    if kind is None:
        return []
    workflows = Workflow.objects.filter(trigger_type=event.type, status=WorkflowStatus.ACTIVE)
    if kind.targeted:
        workflows = workflows.filter(pk=(event.payload or {}).get("workflow_id"))
    return list(workflows)


def matching_workflows(event: Event) -> list[Workflow]:
    """Candidates whose trigger config matches the event (the context is built once, only if needed)."""
    return _match(event)[0]


def _match(event: Event) -> tuple[list[Workflow], dict | None]:
    """(matching workflows, the context they were matched on). No context is read when no candidate exists, and only
    the parts the trigger configs look at when none matches; the runs get it complete."""
    candidates = candidate_workflows(event)
    if not candidates:
        return [], None
    kind = triggers.trigger_type(event.type)
    data = LazyContext(event)
    matched = [workflow for workflow in candidates if kind.matches(workflow.trigger_config or {}, event, data)]
    return matched, data.complete() if matched else None


def _mark_dispatched(event: Event, note: str) -> bool:
    """Mark the event dispatched unless someone else did; False when someone else did (they own it)."""
    return bool(Event.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(dispatched_at=clock.now(),
                                                                                    dispatch_note=note[:300]))


def create_run(workflow: Workflow, event: Event) -> WorkflowRun | None:
    """Queue the run of `workflow` for `event`; None when that event already started that workflow."""
    try:
        with transaction.atomic():
            return WorkflowRun.objects.create(
                workflow=workflow, version=workflow.version, event=event, conversation=event.conversation,
                status=RunStatus.QUEUED, resume_at=clock.now(),
            )
    except IntegrityError:  # this event already started this workflow (a redelivered task)
        return None


def record_sentiment_crossing(event: Event) -> Event | None:
    """Record `conversation.sentiment_crossed` when a message moved the average across the threshold of an active
    workflow. Conversations cannot emit it (the thresholds live in workflows), so the dispatcher derives it from the
    message event's before/after, at the same depth; each workflow then matches it by its own threshold."""
    payload = event.payload or {}
    before, after = payload.get("sentiment_before"), payload.get("sentiment_after")
    if event.type != EventType.MESSAGE_CREATED or after is None or before == after:
        return None
    configs = Workflow.objects.filter(trigger_type=EventType.SENTIMENT_CROSSED,
                                      status=WorkflowStatus.ACTIVE).values_list("trigger_config", flat=True)
    if not any(triggers.sentiment_crossed(config or {}, before, after) for config in configs):
        return None
    direction = "up" if after > (0.5 if before is None else before) else "down"  # no average yet = neutral
    return record_event(type=EventType.SENTIMENT_CROSSED, conversation=event.conversation, depth=event.depth,
                        payload={"message_id": payload.get("message_id"), "sentiment_before": before,
                                 "sentiment_after": after, "direction": direction, "source_event_id": str(event.pk)})


@dataclass
class Dispatch:
    """What one dispatch attempt did. `settled` is False when another worker holds (or just took) the event, which
    it finishes; `context` is the one the runs were matched on, current until one of them executes a step."""

    run_ids: list[int] = field(default_factory=list)
    context: dict | None = None
    settled: bool = True


class _LostClaim(Exception):
    """Another worker dispatched the event first: roll back the runs created here."""


def dispatch_event(event_id) -> list[int]:
    """Create the runs an event starts and mark it dispatched; return the ids of the runs created now."""
    return dispatch(event_id).run_ids


def dispatch(event_id) -> Dispatch:
    """Claim an undispatched event, create the runs it starts and mark it dispatched, all in one transaction."""
    event = Event.objects.select_related("conversation").filter(pk=event_id).first()
    if event is None or event.dispatched_at is not None:
        return Dispatch()
    max_depth = settings.HELPDESK_MAX_DEPTH
    if event.depth > max_depth:
        note = f"depth {event.depth} exceeds HELPDESK_MAX_DEPTH={max_depth}: no workflow started (loop protection)"
        logger.warning("Event %s (%s): %s", event.pk, event.type, note)
        _mark_dispatched(event, note)
        return Dispatch()
    matched, data = _match(event)
    try:
        with transaction.atomic():
            if not _lock_undispatched(event):
                return Dispatch(settled=False)
            runs = [run for workflow in matched if (run := create_run(workflow, event))]
            record_sentiment_crossing(event)
            if not _mark_dispatched(event, f"started {len(runs)} run(s)"):
                raise _LostClaim
    except _LostClaim:
        return Dispatch()
    return Dispatch(run_ids=[run.pk for run in runs], context=data)


def _lock_undispatched(event: Event) -> bool:
    """Row-lock the event where the database can skip locked rows; False if another worker holds it or has
    dispatched it meanwhile. Elsewhere (SQLite: one writer at a time) the conditional mark is the claim."""
    if not connection.features.has_select_for_update_skip_locked:
        return True
    locked = Event.objects.select_for_update(skip_locked=True).filter(pk=event.pk, dispatched_at__isnull=True)
    return bool(list(locked.values_list("pk", flat=True)))

"""The dispatcher: turn committed events into runs of the active workflows whose trigger matches them.

Events are dispatched in batches (docs/operations.md): one query reads the batch's events, one the active workflows of
their trigger types, and the batch's messages and conversations are read once, only if a trigger filter needs them.
A draining worker hands it events it claimed first (`workflows.engine.claims`), so no other drain reads and matches
them meanwhile. Matching happens before any transaction, so SQLite's write lock is held only for the inserts. One short
transaction then takes the events, creates every run with one INSERT and marks the events dispatched:
- where the database can lock rows (PostgreSQL) the events are taken with `select_for_update(skip_locked=True)`,
  so two workers never wait on each other for an event; an event another worker holds is left to it;
- on SQLite the transaction holds the write lock from its start (BEGIN IMMEDIATE), so re-reading which events are
  still undispatched inside it is the claim.
Idempotent by construction: the (workflow, event) unique constraint means a redelivered event creates no second
run, and an event is marked dispatched in the same transaction as its runs. Runs a draining worker will execute
itself are created already claimed (running, with a lease), so no second UPDATE per run is needed to take them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction

from conversations import clock, payloads
from conversations.conf import helpdesk_setting
from conversations.models import Event
from workflows.choices import RunStatus, WorkflowStatus
from workflows.engine import leases, prerender, statements, waits
from workflows.engine.context import BatchReader, LazyContext
from workflows.engine.runner import LEASE, claim_run
from workflows.models import Workflow, WorkflowRun
from workflows.triggers import registry as triggers

logger = logging.getLogger(__name__)
DISPATCH_ORDER = ("order", "id")


class _Candidates:
    """The active workflows of every trigger type present in a batch, read with one query, in dispatch order
    (docs/managers.md "Order": lowest `order` first, then oldest)."""

    def __init__(self, events: Iterable[Event]):
        types = {event.type for event in events if triggers.trigger_type(event.type) is not None}
        self._by_type: dict[str, list[Workflow]] = defaultdict(list)
        if types:
            for workflow in Workflow.objects.filter(trigger_type__in=types, status=WorkflowStatus.ACTIVE).order_by(
                *DISPATCH_ORDER
            ):
                self._by_type[workflow.trigger_type].append(workflow)

    def for_event(self, event: Event) -> list[Workflow]:
        kind = triggers.trigger_type(event.type)
        workflows = self._by_type.get(event.type, [])
        if kind is not None and kind.targeted:  # schedule and manual events name their one workflow
            wanted = payloads.payload_of(event, payloads.TargetedRun).get("workflow_id")
            return [workflow for workflow in workflows if workflow.pk == wanted]
        return list(workflows)


def _matches(event: Event, candidates: list[Workflow], data: LazyContext) -> list[Workflow]:
    """The candidates (in dispatch order) whose trigger matches, up to the first matching one that stops
    processing: the workflows after it do not start for this event."""
    if not candidates:
        return []
    kind = triggers.trigger_types.require(event.type)
    matched = []
    for workflow in candidates:
        if kind.matches(workflow.trigger_config or {}, event, data):
            matched.append(workflow)
            if workflow.stop_processing:
                break
    return matched


def create_run(workflow: Workflow, event: Event) -> WorkflowRun | None:
    """Queue the run of `workflow` for `event`; None when that event already started that workflow."""
    try:
        with transaction.atomic():
            return WorkflowRun.objects.create(
                workflow=workflow,
                version=workflow.version,
                event=event,
                conversation=event.conversation,
                status=RunStatus.QUEUED,
                resume_at=clock.now(),
            )
    except IntegrityError:  # this event already started this workflow (a redelivered task)
        return None


@dataclass
class StartedRun:
    """A run created by a dispatch, with the (lazy) context its event was matched on, current until one of the
    batch's runs changes that conversation."""

    run: WorkflowRun
    context: LazyContext
    ahead: dict[int, prerender.Prerendered] | None = None  # its first segment rendered ahead (`runner.render_ahead`)


@dataclass
class Batch:
    """What one dispatch of a batch did. `unsettled` holds the events this worker could not take (another worker
    holds them, or matching them failed): a drain leaves them to their owner, their own task or the sweep. (On SQLite
    an event not taken was dispatched by another worker already: the drain's next look skips it anyway.)"""

    started: list[StartedRun] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)  # waiting runs an event of the batch settled (due now)
    unsettled: set[Any] = field(default_factory=set)
    changed: set[Any] = field(default_factory=set)  # conversations the batch's runs changed (their contexts are stale)
    taken: int = 0  # events this dispatch marked dispatched
    failed: set[Any] = field(default_factory=set)  # events whose matching failed (left undispatched)

    @property
    def run_ids(self) -> list[int]:
        return [started.run.pk for started in self.started]


class _LostClaim(Exception):
    """Another worker dispatched one of the events first: roll the batch back."""


def dispatch_event(event_id: Any) -> list[int]:
    """Create the runs an event starts (queued, for any worker) and mark it dispatched; return their ids."""
    return dispatch_batch([event_id], claim_runs=False).run_ids


def dispatch_batch(event_ids: list[Any], *, claim_runs: bool = True) -> Batch:
    """Dispatch the undispatched events among `event_ids`: match them, then create their runs and mark them
    dispatched in one transaction. With `claim_runs` the runs are created running, leased to this worker, which
    must execute them next (`runner.execute_started`); otherwise they are queued for any worker."""
    events = list(
        Event.objects.select_related("conversation", "contact")
        .filter(pk__in=event_ids, dispatched_at__isnull=True)
        .order_by("occurred_at")
    )
    if not events:
        return Batch()
    max_depth = helpdesk_setting("MAX_DEPTH")
    too_deep = [event for event in events if event.depth > max_depth]
    for event in too_deep:
        logger.warning("Event %s (%s): %s", event.pk, event.type, _depth_note(event))
    live = [event for event in events if event.depth <= max_depth]
    reader = BatchReader(live)
    matched, failed = _match_batch(live, reader)
    awaited = waits.match_waits([event for event in live if event.pk not in failed], reader.context)
    try:
        created = _commit_batch(
            too_deep, [event for event in live if event.pk not in failed], matched, claim_runs, awaited
        )
    except IntegrityError:
        # A run for one of these events exists already (a late breach started it meanwhile): take them one by one.
        return _dispatch_one_by_one([event.pk for event in events], claim_runs)
    except _LostClaim:
        return Batch(unsettled=set(failed), failed=set(failed))
    taken, runs, resumed = created
    unsettled = set(failed)
    if connection.features.has_select_for_update_skip_locked:  # the rest are locked by another worker, for now
        unsettled |= {event.pk for event in events if event.pk not in taken}
    started = [StartedRun(run=run, context=reader.context(run.event)) for run in runs]
    return Batch(started=started, unsettled=unsettled, resumed=resumed, taken=len(taken), failed=set(failed))


def _depth_note(event: Event) -> str:
    return (
        f"depth {event.depth} exceeds HELPDESK_MAX_DEPTH={helpdesk_setting('MAX_DEPTH')}: no workflow started "
        "(loop protection)"
    )


def _match_batch(events: list[Event], reader: BatchReader) -> tuple[dict[Any, list[Workflow]], set[Any]]:
    """The workflows each event starts, and the events whose matching failed (logged, left undispatched)."""
    candidates = _Candidates(events)
    matched, failed = {}, set()
    for event in events:
        try:
            matched[event.pk] = _matches(event, candidates.for_event(event), reader.context(event))
        except Exception:  # one broken event must not keep the batch from the events behind it
            logger.exception("Matching event %s failed; its own task and the sweep will retry it", event.pk)
            failed.add(event.pk)
    return matched, failed


def _commit_batch(
    too_deep: list[Event], live: list[Event], matched: dict[Any, list[Workflow]], claim_runs: bool, awaited: list[Any]
) -> tuple[set[Any], list[WorkflowRun], list[int]]:
    """Claim the events, create their runs, settle the waits they match and mark them dispatched in one
    transaction; returns the event ids taken, the runs created and the waiting runs resumed."""
    with transaction.atomic():
        taken = _lock_undispatched([event.pk for event in too_deep + live])
        if not taken:
            return set(), [], []
        now = clock.now()
        runs = [
            _new_run(workflow, event, now, claim_runs)
            for event in live
            if event.pk in taken
            for workflow in matched[event.pk]
        ]
        statements.RUN_ROWS.create(runs)
        _derive_events([event for event in live if event.pk in taken])
        resumed = waits.settle_waits([(wait, event) for wait, event in awaited if event.pk in taken], now)
        notes = {event.pk: _depth_note(event) for event in too_deep if event.pk in taken}
        counts: defaultdict[Any, int] = defaultdict(int)
        for run in runs:
            counts[run.event_id] += 1
        notes.update({event.pk: f"started {counts[event.pk]} run(s)" for event in live if event.pk in taken})
        _mark_dispatched(notes, now)
    return taken, runs, resumed


def _new_run(workflow: Workflow, event: Event, now: dt.datetime, claimed: bool) -> WorkflowRun:
    run = WorkflowRun(
        workflow=workflow,
        version=workflow.version,
        event=event,
        conversation=event.conversation,
        status=RunStatus.QUEUED,
        resume_at=now,
    )
    if claimed:
        run.status, run.resume_at, run.started_at = RunStatus.RUNNING, None, now
        run.lease_until, run.leased_by = now + LEASE, leases.this_worker()
    return run


def _derive_events(events: list[Event]) -> None:
    """Let trigger families record the events they derive from these (e.g. a sentiment crossing from a message)."""
    for kind in triggers.trigger_types.with_hook("derive"):
        if kind.derive is not None:
            kind.derive(events)


def _mark_dispatched(notes: dict[Any, str], now: dt.datetime) -> None:
    """Mark the events dispatched, one UPDATE per distinct note; any event found dispatched meanwhile means another
    worker took it, and the whole batch rolls back (it cannot happen while the claim holds)."""
    by_note = defaultdict(list)
    for event_id, note in notes.items():
        by_note[note[:300]].append(event_id)
    for note, ids in by_note.items():
        marked = Event.objects.filter(pk__in=ids, dispatched_at__isnull=True).update(
            dispatched_at=now, dispatch_note=note
        )
        if marked != len(ids):
            raise _LostClaim


def _lock_undispatched(event_ids: list[Any]) -> set[Any]:
    """The events among `event_ids` this transaction now owns: row-locked where the database can skip locked rows
    (others are left to the worker holding them); elsewhere (SQLite, one writer at a time) those still undispatched."""
    if not event_ids:
        return set()
    pending = Event.objects.filter(pk__in=event_ids, dispatched_at__isnull=True)
    if connection.features.has_select_for_update_skip_locked:
        pending = pending.select_for_update(skip_locked=True)
    return set(pending.values_list("pk", flat=True))


def _dispatch_one_by_one(event_ids: list[Any], claim_runs: bool) -> Batch:
    """The slow path for a batch that hit an existing run: each event on its own, skipping runs that exist."""
    batch = Batch()
    for event_id in event_ids:
        event = (
            Event.objects.select_related("conversation", "contact")
            .filter(pk=event_id, dispatched_at__isnull=True)
            .first()
        )
        if event is None:
            continue
        reader = BatchReader([event])
        deep = event.depth > helpdesk_setting("MAX_DEPTH")
        matched = [] if deep else _matches(event, _Candidates([event]).for_event(event), reader.context(event))
        awaited = [] if deep else waits.match_waits([event], reader.context)
        with transaction.atomic():
            if not _lock_undispatched([event.pk]):
                batch.unsettled.add(event.pk)
                continue
            runs = [run for workflow in matched if (run := create_run(workflow, event))]
            _derive_events([event])
            batch.resumed += waits.settle_waits(awaited, clock.now())
            note = _depth_note(event) if event.depth > helpdesk_setting("MAX_DEPTH") else f"started {len(runs)} run(s)"
            _mark_dispatched({event.pk: note}, clock.now())
            batch.taken += 1
        if claim_runs:
            runs = [claimed for run in runs if (claimed := claim_run(run.pk))]
        batch.started += [StartedRun(run=run, context=reader.context(event)) for run in runs]
    return batch

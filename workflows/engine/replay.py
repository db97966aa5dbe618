"""Replay ("try on history", docs/managers.md): what a workflow would have done on the events recorded in a period.

Every recorded event of the workflow's trigger type in the period is matched against the trigger filter the way
the dispatcher matches it (`workflows.triggers.registry`, through the dry run's trigger report) and, when it would have
started the workflow, its steps are dry-run (`workflows.engine.dryrun`): side-effect-free steps execute inside a rolled
back transaction and every other step only describes itself, so nothing is changed or sent whatever the steps are.
The context is the conversation as of the event (`workflows.engine.replay_context`).

A `WorkflowReplay` row is the source of truth: the workers process it in chunks of HELPDESK_REPLAY_CHUNK_EVENTS
(`replay_run_chunk`, each chunk enqueueing the next), a chunk done twice is saved once (it saves only over the
chunk count it read), and the sweep re-enqueues a replay whose chunk task was lost (`resume_stalled_replays`).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet

from conversations import clock
from conversations.conf import helpdesk_setting
from conversations.models import Event
from conversations.wording import VALUE_LABELS
from workflows.choices import ReplayStatus
from workflows.engine import dryrun
from workflows.engine.context import BatchReader
from workflows.engine.definition import DefinitionError, mask_write_only, validate_definition
from workflows.engine.replay_context import ContextAtEvent
from workflows.engine.versions import stored_definition
from workflows.integrations import secrets as secret_store
from workflows.models import Workflow, WorkflowReplay
from workflows.steps.wording import field_words
from workflows.triggers import registry as triggers

logger = logging.getLogger(__name__)

STALL = dt.timedelta(minutes=2)  # a running replay without progress for this long has lost its chunk task
SAMPLES_PER_OUTCOME = 3
SWEEP_BATCH = 50
OUTCOMES = ("filtered_out", "depth_limit", "would_succeed", "stopped_at_condition", "would_fail")
RESULT_OUTCOMES = {"succeeded": "would_succeed", "stopped": "stopped_at_condition", "failed": "would_fail"}
STEP_COUNTS = {
    "would_run": "would_run",
    "stopped": "would_run",
    "skipped": "would_skip",
    "not_reached": "would_skip",
    "failed": "would_fail",
}


# Starting ------------------------------------------------------------------------------------------------------


class ReplayLimitReached(Exception):
    """Too many replays are running (for this workflow, or in all): start this one when one of them is done."""


def _check_replay_capacity(workflow: Workflow) -> None:
    """At most HELPDESK_REPLAY_MAX_PER_WORKFLOW running replays of one workflow and HELPDESK_REPLAY_MAX_RUNNING in
    all (each holds worker time for minutes); called inside the start's transaction, the workflow row locked."""
    running = WorkflowReplay.objects.filter(status=ReplayStatus.RUNNING)
    per_workflow, in_all = helpdesk_setting("REPLAY_MAX_PER_WORKFLOW"), helpdesk_setting("REPLAY_MAX_RUNNING")
    if running.filter(workflow=workflow).count() >= per_workflow:
        raise ReplayLimitReached(
            f"This workflow already has {per_workflow} replay(s) running (the most at once): "
            "start another when it is done."
        )
    if running.count() >= in_all:
        raise ReplayLimitReached(
            f"{in_all} replays are running (the most at once): start this one when one of them is done."
        )


def replay_start(
    *,
    workflow: Workflow,
    since: dt.datetime,
    until: dt.datetime,
    limit: int | None = None,
    definition: dict[str, Any] | None = None,
    created_by: Any = None,
) -> WorkflowReplay:
    """Start replaying `workflow` (or a draft `definition` given instead of the saved one) over the events recorded
    in [since, until), at most `limit` of them; the first chunk is enqueued after commit.
    Raises DefinitionError for an invalid draft, ValidationError for a bad period, ReplayLimitReached when too many
    replays are running (per workflow and in all; nothing is queued: the caller tries again later)."""
    if since >= until:
        raise ValidationError({"until": "The end of the period must be after its start."})
    cleaned = validate_definition(
        definition if definition is not None else mask_write_only(stored_definition(workflow))
    )
    total = recorded_events(cleaned, workflow.pk, since, until).count()
    with transaction.atomic():
        list(Workflow.objects.select_for_update().filter(pk=workflow.pk).values_list("pk"))  # one start at a time
        _check_replay_capacity(workflow)
        replay = WorkflowReplay.objects.create(
            workflow=workflow,
            definition=mask_write_only(cleaned),
            since=since,
            until=until,
            limit=limit,
            total=min(total, limit) if limit is not None else total,
            created_by=created_by,
            heartbeat_at=clock.now(),
            by_outcome=dict.fromkeys(OUTCOMES, 0),
            step_counts={step["type"]: _no_counts() for step in cleaned["steps"]},
        )
        transaction.on_commit(lambda: enqueue_chunk(replay.pk))
    return replay


def recorded_events(
    definition: dict[str, Any], workflow_id: int, since: dt.datetime, until: dt.datetime
) -> QuerySet[Event]:
    """The events a replay reads, in the order they happened: those of the trigger's type in the period (for a
    schedule or manual trigger, only the ones recorded for this workflow)."""
    trigger_type = definition["trigger"]["type"]
    events = Event.objects.filter(type=trigger_type, occurred_at__gte=since, occurred_at__lt=until)
    if triggers.trigger_types.require(trigger_type).targeted:
        events = events.filter(payload__workflow_id=workflow_id)
    return events.order_by("occurred_at", "id")


def enqueue_chunk(replay_id: int) -> None:
    """Wake a worker for a replay's next chunk; a lost message is found again by `resume_stalled_replays`."""
    from django_q.tasks import async_task

    async_task("workflows.tasks.replay_chunk_task", replay_id, group="replays")


# Chunks --------------------------------------------------------------------------------------------------------


def replay_run_chunk(replay_id: int) -> bool:
    """The chunk task's body: process one chunk, enqueue the next while events remain. An unexpected error fails
    the replay with its text (it is a report; start it again); a database error is left to the task's retry and
    the sweep. Returns whether more chunks follow."""
    try:
        more = replay_process_chunk(replay_id)
    except DatabaseError:
        raise
    except Exception as exc:
        logger.exception("Replay %s failed", replay_id)
        WorkflowReplay.objects.filter(pk=replay_id, status=ReplayStatus.RUNNING).update(
            status=ReplayStatus.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=clock.now()
        )
        return False
    if more:
        transaction.on_commit(lambda: enqueue_chunk(replay_id))
    return more


def replay_process_chunk(replay_id: int) -> bool:
    """Evaluate the next chunk of a running replay's events and save the figures; True when events remain.
    Safe to run twice: the save is conditional on the chunk count read, so a duplicate chunk is discarded."""
    replay = WorkflowReplay.objects.filter(pk=replay_id, status=ReplayStatus.RUNNING).first()
    if replay is None:
        return False
    try:
        definition = validate_definition(replay.definition)
    except DefinitionError as exc:
        _fail(replay, "The definition is no longer valid: " + error_text(exc.errors))
        return False
    wanted = _chunk_size(replay)
    events = list(_after_cursor(replay, definition).select_related("conversation", "contact")[:wanted])
    tally = Tally.of(replay)
    reader = BatchReader(events)
    with secret_store.secrets_snapshot():
        for event in events:
            tally.add(evaluate_event(definition, event, reader))
    finished = len(events) < wanted or (replay.limit is not None and replay.done + len(events) >= replay.limit)
    return _save(replay, tally, events, finished) and not finished


def _chunk_size(replay: WorkflowReplay) -> int:
    size = int(helpdesk_setting("REPLAY_CHUNK_EVENTS"))
    return size if replay.limit is None else max(0, min(size, replay.limit - replay.done))


def _after_cursor(replay: WorkflowReplay, definition: dict[str, Any]) -> QuerySet[Event]:
    events = recorded_events(definition, replay.workflow_id, replay.since, replay.until)
    if replay.cursor_at is None:
        return events
    return events.filter(
        Q(occurred_at__gt=replay.cursor_at) | Q(occurred_at=replay.cursor_at, id__gt=replay.cursor_event)
    )


def _save(replay: WorkflowReplay, tally: Tally, events: list[Event], finished: bool) -> bool:
    """Save the chunk's figures and cursor over the chunk count it read; False when another chunk saved first."""
    now, done = clock.now(), replay.done + len(events)
    fields: dict[str, Any] = {
        **tally.fields(),
        "done": done,
        "chunks": replay.chunks + 1,
        "heartbeat_at": now,
        "total": max(replay.total, done),
    }
    if events:
        fields.update(cursor_at=events[-1].occurred_at, cursor_event=events[-1].pk)
    if finished:
        fields.update(status=ReplayStatus.DONE, finished_at=now, total=done)
    return bool(
        WorkflowReplay.objects.filter(pk=replay.pk, chunks=replay.chunks, status=ReplayStatus.RUNNING).update(**fields)
    )


def _fail(replay: WorkflowReplay, error: str) -> None:
    WorkflowReplay.objects.filter(pk=replay.pk, status=ReplayStatus.RUNNING).update(
        status=ReplayStatus.FAILED, error=error, finished_at=clock.now()
    )


def error_text(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items())


# One event -----------------------------------------------------------------------------------------------------


@dataclass
class EventResult:
    """What the workflow would have done on one recorded event."""

    event: Event
    outcome: str
    reason: str = ""
    matched: bool = False
    would_start: bool = False
    steps: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    trigger: dict[str, Any] = field(default_factory=dict, repr=False)

    def sample(self) -> dict[str, Any]:
        """The event as one of the replay's samples (docs/managers.md `samples`), with the message it carried and, when
        the trigger filtered it out, the filter key that did (worked out only for the few events kept as samples)."""
        event, message = self.event, self.data.get("message") or {}
        reason = self.reason or _failing_filter(self.trigger, event, self.data)
        return {
            "event": {
                "id": str(event.pk),
                "type": event.type,
                "occurred_at": event.occurred_at.isoformat(),
                "depth": event.depth,
                "payload": event.payload,
            },
            "conversation": event.conversation_id,
            "message": message.get("body"),
            "outcome": self.outcome,
            "reason": reason,
            "steps": self.steps,
        }


def evaluate_event(definition: dict[str, Any], event: Event, reader: BatchReader) -> EventResult:
    """Match the event against the trigger (as recorded, as of the event) and dry-run the steps if it would start."""
    data = ContextAtEvent(event, reader=reader)
    trigger = dryrun.trigger_report(definition["trigger"], event, data)
    if not trigger["matches"]:
        return EventResult(event, "filtered_out", trigger.get("error", ""), data=data, trigger=definition["trigger"])
    if event.depth > helpdesk_setting("MAX_DEPTH"):
        return EventResult(
            event,
            "depth_limit",
            f"Depth {event.depth} exceeds HELPDESK_MAX_DEPTH={helpdesk_setting('MAX_DEPTH')}: no workflow starts.",
            matched=True,
        )
    complete = data.complete()
    report = dryrun.dry_run_steps(steps=definition["steps"], event=event, data=complete)
    return EventResult(
        event,
        RESULT_OUTCOMES[report["result"]["status"]],
        matched=True,
        would_start=True,
        steps=report["steps"],
        data=complete,
    )


def _failing_filter(trigger: dict[str, Any], event: Event, data: dict[str, Any]) -> str:
    """Which trigger filter key rejects the event: each key is matched on its own, as the trigger type defines it."""
    kind, config = triggers.trigger_type(trigger.get("type", "")), trigger.get("config") or {}
    for key, value in config.items():
        try:
            matches = kind is not None and kind.matches({key: value}, event, data)
        except (TypeError, ValueError, AttributeError):
            matches = False
        if not matches:
            return f"The trigger filter {field_words(key)} ({_listed(value)}) does not match this event."
    return "The trigger does not match this event." if config else ""


def _listed(value: Any) -> str:
    if isinstance(value, dict):
        return "its conditions"
    shown = value if isinstance(value, list) else [value]
    return ", ".join(str(VALUE_LABELS.get(str(item), str(item))) for item in shown)


def _no_counts() -> dict[str, int]:
    return {"would_run": 0, "would_skip": 0, "would_fail": 0}


@dataclass
class Tally:
    """The replay's figures so far, added to event by event."""

    matched: int
    would_start: int
    by_outcome: dict[str, int]
    steps: dict[str, dict[str, int]]
    samples: list[dict[str, Any]]

    @classmethod
    def of(cls, replay: WorkflowReplay) -> Tally:
        return cls(
            replay.matched,
            replay.would_start,
            dict(replay.by_outcome),
            {kind: dict(counts) for kind, counts in replay.step_counts.items()},
            list(replay.samples),
        )

    def add(self, result: EventResult) -> None:
        self.matched += result.matched
        self.would_start += result.would_start
        self.by_outcome[result.outcome] = self.by_outcome.get(result.outcome, 0) + 1
        for step in result.steps:
            self.steps.setdefault(step["type"], _no_counts())[STEP_COUNTS[step["status"]]] += 1
        if sum(sample["outcome"] == result.outcome for sample in self.samples) < SAMPLES_PER_OUTCOME:
            self.samples.append(result.sample())

    def fields(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "would_start": self.would_start,
            "by_outcome": self.by_outcome,
            "step_counts": self.steps,
            "samples": self.samples,
        }


# Recovery ------------------------------------------------------------------------------------------------------


def resume_stalled_replays(now: dt.datetime) -> int:
    """Re-enqueue running replays without progress for STALL (their chunk task was lost); each claim moves the
    heartbeat with a conditional UPDATE, so concurrent sweeps enqueue a replay once."""
    stalled = list(
        WorkflowReplay.objects.filter(status=ReplayStatus.RUNNING, heartbeat_at__lte=now - STALL).values_list(
            "pk", "heartbeat_at"
        )[:SWEEP_BATCH]
    )
    woken = 0
    for replay_id, heartbeat_at in stalled:
        if WorkflowReplay.objects.filter(pk=replay_id, heartbeat_at=heartbeat_at, status=ReplayStatus.RUNNING).update(
            heartbeat_at=now
        ):
            transaction.on_commit(functools.partial(enqueue_chunk, replay_id))
            woken += 1
    return woken


def replay_report(replay: WorkflowReplay) -> dict[str, Any]:
    """The replay as `GET /api/workflow-replays/{id}/` shows it (docs/managers.md)."""
    return {
        "id": replay.pk,
        "workflow": replay.workflow_id,
        "status": replay.status,
        "progress": {"done": replay.done, "total": replay.total},
        "matched": replay.matched,
        "would_start": replay.would_start,
        "by_outcome": replay.by_outcome,
        "steps": replay.step_counts,
        "samples": replay.samples,
        "since": replay.since.isoformat(),
        "until": replay.until.isoformat(),
        "limit": replay.limit,
        "error": replay.error,
        "created_at": replay.created_at.isoformat(),
        "finished_at": replay.finished_at.isoformat() if replay.finished_at else None,
    }

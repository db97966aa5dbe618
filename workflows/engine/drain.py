"""The drain: what a worker does when the queue wakes it (docs/operations.md). It dispatches every undispatched event,
oldest first, in batches, and executes the runs each batch starts right away, in this worker, until nothing is left or
its time budget is spent. The queue only wakes workers up: one message serves a whole burst of events, events
recorded while draining are found by the drain itself (no queue round trip each), and anything a drain leaves
behind is found by the next wake-up or the recovery sweep (`workflows.engine.sweep`).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
from typing import Any

from django.db import DatabaseError, transaction

from conversations import clock, sqlite_lock
from conversations.events import drain_look_seconds, enqueue_event, wakeups_suppressed
from conversations.models import Event
from workflows.choices import RunStatus
from workflows.engine import claims, dispatcher, runner
from workflows.models import WorkflowRun

logger = logging.getLogger(__name__)

BATCH = 100  # events dispatched per transaction
IDLE_POLL_SECONDS = 0.05
# Runs this process claimed but could not finish because the database failed under them: their leases are handed
# back as soon as the database answers again, so the sweep resumes them then, not only once the lease expires.
_unreleased: set[int] = set()
_settled = [False]  # this process has frozen its long-lived objects (`_settle_process`)


def dispatch_and_run(event_id: Any) -> int:
    """Dispatch one event and execute the runs it starts in this worker; return the runs started."""
    return drain_batch([event_id])


def drain_batch(event_ids: list[Any]) -> int:
    """Dispatch these events (those still undispatched and held by no other worker) and execute the runs they start;
    return the runs started. Outside a drain loop, so the events those runs record wake a worker as usual."""
    return _drain_batch(claims.claim_events(event_ids), set())


def drain_events(first_event_id: Any = None, budget_seconds: float = 5.0) -> int:
    """Dispatch `first_event_id`, then every other undispatched event, oldest first and a batch at a time, until
    none is left or the budget is spent; return the runs started.

    A drain lasts at least the wake-up window (it polls once more at its end), because a process that woke a worker
    lets the events of the next WAKE_UP_WINDOW_SECONDS go without a wake-up of their own (`conversations.events`
    `drain_look_seconds`): they are committed before the drain's last look. Events another worker holds, or that failed here, are left to
    their owner, their own task and the sweep, so they never stall the drain."""
    started_at = time.monotonic()
    deadline = started_at + budget_seconds
    look_for = drain_look_seconds()
    held: set[Any] = set()
    started = 0
    release_abandoned_runs()
    with wakeups_suppressed(), sqlite_lock.unannounced_waits():  # an API write waiting for the lock is announced
        if first_event_id is not None:
            started += _drain_batch(claims.claim_events([first_event_id]), held)
        while time.monotonic() < deadline:
            looked_at = time.monotonic()
            batch = claims.claim_oldest(BATCH, held)
            if batch:
                started += _drain_batch(batch, held)
            elif looked_at - started_at >= look_for or budget_seconds <= 0:
                break
            else:
                time.sleep(IDLE_POLL_SECONDS)
    if time.monotonic() >= deadline and _oldest_undispatched(held, limit=1):
        _wake_another_worker()
    _settle_process()
    return started


def _settle_process() -> None:
    """Once per process, after its first drain: move every object alive now out of the cycle collector's reach
    (`gc.freeze`). A worker keeps Django's app registry, model metadata, compiled statements and cached workflow
    versions (~150,000 objects) for its whole life, and each full collection walked them all again: ~0.15 s of CPU
    every few thousand runs, about a tenth of what the runs themselves cost. Garbage made later is collected as
    before; what is frozen is only what a first drain left alive (a collection runs first)."""
    if _settled[0]:
        return
    _settled[0] = True
    gc.collect()
    gc.freeze()


def _oldest_undispatched(held: set[Any], limit: int = BATCH) -> list[Any]:
    return list(
        Event.objects.filter(dispatched_at__isnull=True)
        .exclude(pk__in=held)
        .order_by("occurred_at")
        .values_list("pk", flat=True)[:limit]
    )


def _drain_batch(event_ids: list[Any], held: set[Any]) -> int:
    """Dispatch one claimed batch and execute the runs it started; failures are logged, their claims handed back
    and left to the sweep."""
    if not event_ids:
        return 0
    try:
        batch = dispatcher.dispatch_batch(event_ids)
    except Exception:  # a broken batch must not keep every drain from the events behind it
        logger.exception("Dispatching events %s failed; their own tasks and the sweep will retry them", event_ids)
        held.update(event_ids)
        claims.release(event_ids)
        return 0
    claims.stats.record(len(event_ids), lost=len(event_ids) - batch.taken - len(batch.failed))
    if batch.failed:
        claims.release(batch.failed)
    held.update(batch.unsettled)
    _execute_grouped(batch)
    for run_id in batch.resumed:  # waiting runs an event of the batch settled (`wait_for`)
        try:
            runner.execute_run(run_id)
        except DatabaseError:
            raise
        except Exception:
            logger.exception("Resuming run %s failed in the drain; the sweep will resume it", run_id)
    return len(batch.started)


def _execute_grouped(batch: dispatcher.Batch) -> None:
    """Execute the runs a batch started, consecutive runs' segments sharing one write transaction
    (`runner.grouped`). Before a group's transaction opens, the templates of the runs it may hold are rendered (no
    render holds the write lock)."""
    with runner.grouped() as group:
        for index, started in enumerate(batch.started):
            if not group.is_open:
                runner.render_ahead(batch.started[index : index + runner.GROUP_RUNS])
            try:
                runner.execute_started(started, batch.changed)
            except DatabaseError:  # the database went away: nothing of the open group committed
                logger.exception("Run %s lost the database; its lease is handed back once it answers", started.run.pk)
                _unreleased.update(group.run_ids)
                _unreleased.update(other.run.pk for other in batch.started[index:])
                raise
            except Exception:  # a bug: the run keeps its lease and the sweep takes it again once the lease expires
                logger.exception("Run %s failed in the drain; the sweep will resume it", started.run.pk)
                batch.changed.add(started.run.conversation_id)
                if transaction.get_connection().needs_rollback:  # the open group cannot commit: its runs too
                    batch.changed.update(other.run.conversation_id for other in batch.started[:index])
                    group.rollback()


def release_abandoned_runs() -> int:
    """Hand back the leases of runs this process abandoned when the database failed (see `_unreleased`), so the
    sweep resumes them now. Best effort: while the database is still away they are kept for the next try."""
    if not _unreleased:
        return 0
    ids = list(_unreleased)
    try:
        released = WorkflowRun.objects.filter(pk__in=ids, status=RunStatus.RUNNING).update(
            lease_until=clock.now() - dt.timedelta(seconds=1)
        )
    except DatabaseError:
        return 0
    _unreleased.difference_update(ids)
    logger.info("Handed back the leases of %s run(s) abandoned when the database failed", released)
    return released


def _wake_another_worker() -> None:
    """The budget ran out with events left: queue one wake-up for them (after commit, like every wake-up)."""
    pending = _oldest_undispatched(set(), limit=1)
    if pending:
        transaction.on_commit(lambda: enqueue_event(pending[0], force=True))

"""The runner: executes a run's steps in order, recording each result as it happens.

Durability rules (docs/operations.md):
- A worker claims a run with a conditional UPDATE and holds a lease; a run whose lease expired (its worker died) is
  claimed again by the sweep.
- Each step's effects, its StepRun result and the run's new position commit in one transaction, so a worker killed
  mid-step leaves the step to be executed again with no partial effect, and a finished step is never executed again.
- Waits and retries are a status plus a `resume_at` column: nothing sleeps in a worker.
- A run's consecutive internal steps (a *segment*) execute in one transaction: their effects, their StepRun rows
  (one INSERT) and the run's new state (one conditional UPDATE) commit together or not at all, so a worker killed
  mid-segment leaves no partial effect and the segment runs again whole. A step that calls another system ends the
  segment: its attempt commits before the call and no transaction is open across the network.
- No template renders inside a transaction (on SQLite it would hold the one write lock, and every API write would
  wait for it): a segment's steps are rendered before it begins, and a step whose rendering went stale ends the
  segment (`workflows.engine.prerender`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.db.transaction import TransactionManagementError

from conversations import clock, sqlite_lock
from conversations.conf import helpdesk_setting
from workflows.choices import RunStatus, StepStatus
from workflows.engine import leases, prerender, program, statements, write_turns
from workflows.engine.context import LazyContext, RenderError
from workflows.engine.versions import steps_of
from workflows.integrations import delivery as health
from workflows.integrations.secrets import mask, secret_values
from workflows.models import StepRun, WorkflowRun
from workflows.steps import step_types
from workflows.steps.registry import Outcome, StepContext, StepOutcome, StepType

if TYPE_CHECKING:
    from workflows.engine.dispatcher import StartedRun

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=helpdesk_setting("RUN_LEASE_SECONDS"))  # renewed after each step or segment
# A draining worker commits the segments of consecutive runs together (`grouped`): at most this many runs, or this
# long holding the write lock, per transaction.
GROUP_RUNS = 16
GROUP_SECONDS = 0.015
# A group commits early once another writer waits for the lock (`sqlite_lock.WaitingBoard`), and the next group lets
# it in first: it opens once the waiter has the lock, or after this long at most.
YIELD_SECONDS = 0.003
YIELD_POLL_SECONDS = 0.0001


def claimable(now: dt.datetime) -> Q:
    """Runs a worker may take now: queued or waiting and due, or running with an expired lease (a dead worker)."""
    return Q(status__in=[RunStatus.QUEUED, RunStatus.WAITING], resume_at__lte=now) | Q(
        status=RunStatus.RUNNING, lease_until__lt=now
    )


def claim_run(run_id: int) -> WorkflowRun | None:
    """Take a run for this worker, or None when another worker has it or it is not due."""
    now = clock.now()
    claimed = WorkflowRun.objects.filter(claimable(now), pk=run_id).update(
        status=RunStatus.RUNNING,
        lease_until=now + LEASE,
        leased_by=leases.this_worker(),
        started_at=Coalesce(F("started_at"), Value(now)),
    )
    if not claimed:
        return None
    return WorkflowRun.objects.select_related("event", "conversation", "workflow").get(pk=run_id)


def execute_run(run_id: int) -> str | None:
    """Claim a run and execute its remaining steps; return its status afterwards (None if not claimed)."""
    run = claim_run(run_id)
    if run is None:
        return None
    return _execute_claimed(run, None, fresh=False)[0]


def execute_started(started: StartedRun, changed: set[Any]) -> str:
    """Execute a run a dispatch created already claimed by this worker (`dispatcher.StartedRun`). It starts from the
    context its event was matched on unless an earlier run changed that conversation (`changed`, shared by the
    runs of a batch and updated here), in which case it reads it again. Returns the run's status."""
    run = started.run
    context = started.context
    if run.conversation_id in changed:
        context = _fresh_context(run, context)
    status, changed_it = _execute_claimed(run, context, fresh=True, known=started.ahead)
    if changed_it:
        changed.add(run.conversation_id)
    group = _current_group()
    if group is not None:
        group.ran(run)
    return status


def render_ahead(started: Sequence[StartedRun]) -> None:
    """Render now (outside any transaction) what the first segment of each of these runs will render, over the
    context its event was matched on (`StartedRun.ahead`). A grouped drain calls it before a group's transaction
    opens: a segment inside the group uses these renderings while they hold for the context as it is then
    (`prerender.Prerendered.fits`), and closes the group first when one does not."""
    for item in started:
        if item.ahead is not None:
            continue
        run = item.run
        steps = steps_of(run)
        in_segment = functools.partial(_may_join_segment, steps, {})
        data = _context_for(run, item.context)
        item.ahead = prerender.segment_prerenders(steps, run.position, in_segment, _step_context(run, data, None))


def _execute_claimed(
    run: WorkflowRun,
    context: LazyContext | None,
    fresh: bool,
    known: dict[int, prerender.Prerendered] | None = None,
) -> tuple[str, bool]:
    """Execute a claimed run's remaining steps; return its status and whether a step with side effects ran (the
    contexts other runs read of its conversation before are stale). `fresh` runs have no step results yet (none are
    read). `known`: renderings made ahead (`render_ahead`), used while they hold."""
    steps = steps_of(run)
    recorded = {} if fresh else {step_run.position: step_run for step_run in StepRun.objects.filter(run=run)}
    start = run.position
    data: dict[str, Any]
    data, stale = _context_for(run, context), False
    ahead: dict[int, prerender.Prerendered] = dict(known or {})  # renderings made before a segment, while they hold
    while run.status == RunStatus.RUNNING and run.position < len(steps):
        if stale:  # read again only when another step needs it (not after the last one)
            data, stale = _fresh_context(run, data), False
        if _starts_segment(run, steps, recorded):
            data, stale = _run_segment(run, steps, data, recorded, ahead)
            continue
        _close_group()  # a step on its own (it may call out) runs outside any transaction
        if isinstance(data, LazyContext):  # steps that call out (or resume) get the whole context, read now
            data = data.complete()
        step = steps[run.position]
        outcome = _run_step(run, step, data)
        if outcome is not None and step_types.require(step["type"]).has_side_effects:
            stale = True
        else:
            data["vars"] = dict(run.variables)
    if run.status == RunStatus.RUNNING:
        _close_group()
        _finish(run, RunStatus.SUCCEEDED)
    elif run.status == RunStatus.FAILED:
        _close_group()  # it may notify managers
        health.run_failed(run)  # a workflow whose runs keep failing alerts managers (docs/managers.md)
    # Conservative: a step that failed or was skipped may count, which only costs the next run a read.
    ran = steps[start : run.position + 1]
    return run.status, any(step_types.require(step["type"]).has_side_effects for step in ran)


def _fresh_context(run: WorkflowRun, previous: dict[str, Any]) -> LazyContext:
    """The run's context after a step changed the conversation: read again only where a later step looks (the
    event's message never changes once written, so it is kept)."""
    if isinstance(previous, LazyContext):
        return previous.refreshed(run.variables)
    known = {"message": previous["message"]} if "message" in previous else {}
    return LazyContext(run.event, run.variables, run.conversation, known=known)


def _context_for(run: WorkflowRun, context: LazyContext | None) -> LazyContext:
    """The run's context: a private copy of a current one (with this run's variables), or read as steps need it."""
    if context is None:
        return LazyContext(run.event, run.variables, run.conversation)
    return context.fork(dict(run.variables))


def _starts_segment(run: WorkflowRun, steps: list[dict[str, Any]], recorded: dict[int, StepRun]) -> bool:
    """The step at the run's position can open a segment: internal, and never started before."""
    return _may_join_segment(steps, recorded, run.position)


def _may_join_segment(steps: list[dict[str, Any]], recorded: dict[int, StepRun], position: int) -> bool:
    """The step at `position` may execute in a segment: internal, and never started before."""
    step = steps[position]
    return position not in recorded and step_types.require(step["type"]).runs_in_transaction(step.get("config", {}))


class _Cancelled(Exception):
    """The run stopped being ours while its segment executed (cancelled): roll the segment back."""


class _Replay(Exception):
    """A step raised in a segment run without savepoints: roll the segment back and run it again with them."""


def _run_segment(
    run: WorkflowRun,
    steps: list[dict[str, Any]],
    data: dict[str, Any],
    recorded: dict[int, StepRun],
    known: dict[int, prerender.Prerendered],
) -> tuple[dict[str, Any], bool]:
    """Execute the run's consecutive internal steps from its position in one transaction (see the module
    docstring); return the context and whether it went stale. A cancel that landed meanwhile wins: nothing
    commits. The steps run without a savepoint each: when one raises, the whole segment rolls back and runs again
    with a savepoint per step, so the failure is recorded without its partial writes (failures are rare, savepoints
    are paid on every step). Its steps are rendered first, before the transaction (`known`: renderings made before
    an earlier segment, reused while they hold, and updated with this segment's)."""
    before = {name: getattr(run, name) for name in statements.SEGMENT_FIELDS}
    in_segment = functools.partial(_may_join_segment, steps, recorded)
    ctx = _step_context(run, data, None)
    group = _current_group()
    ahead = None
    if group is not None and group.is_open:  # no render while the group holds the write lock
        ahead = prerender.kept_prerenders(steps, run.position, in_segment, ctx, known)
        if ahead is None:
            group.commit()
    if ahead is None:
        ahead = prerender.segment_prerenders(steps, run.position, in_segment, ctx, known)
    known.update(ahead)
    if group is not None:
        group.open()  # the segment's transaction is a savepoint inside it
    try:
        return _commit_segment(run, steps, data, recorded, ahead, optimistic=True)
    except _Replay:
        for name, value in before.items():
            setattr(run, name, value)
        data["vars"] = dict(run.variables)
        return _commit_segment(run, steps, data, recorded, ahead, optimistic=False)


def _commit_segment(
    run: WorkflowRun,
    steps: list[dict[str, Any]],
    data: dict[str, Any],
    recorded: dict[int, StepRun],
    ahead: dict[int, prerender.Prerendered],
    optimistic: bool,
) -> tuple[dict[str, Any], bool]:
    """One attempt at a segment (see `_run_segment`); `_Replay` when a step raised in an `optimistic` attempt.
    `ahead`: the segment's steps rendered before its transaction (`prerender.segment_prerenders`)."""
    start, variables = run.position, dict(run.variables)
    try:
        with transaction.atomic():
            with _savepoints_off() if optimistic else contextlib.nullcontext():
                step_runs, data, stale = _segment_steps(run, steps, data, recorded, ahead, optimistic)
            statements.STEP_ROWS.create(step_runs)
            if run.status == RunStatus.RUNNING and run.position >= len(steps):
                run.status, run.finished_at, run.resume_at, run.lease_until = (
                    RunStatus.SUCCEEDED,
                    clock.now(),
                    None,
                    None,
                )
            elif run.status == RunStatus.RUNNING:
                run.lease_until = clock.now() + LEASE
            fields = {name: getattr(run, name) for name in statements.SEGMENT_FIELDS}
            if not statements.RUN_SEGMENT_END.execute(pk=run.pk, **fields):
                raise _Cancelled
    except _Cancelled:
        run.position, run.variables = start, variables
        run.refresh_from_db(fields=["status", "error", "finished_at", "resume_at", "lease_until", "position"])
        return data, True
    return data, stale


class _Group:
    """The write transaction that consecutive runs of a drain share (`grouped`): opened by the first segment that
    commits, committed once it holds GROUP_RUNS runs or has held the write lock GROUP_SECONDS, and before anything
    that must not run inside a transaction (a render, a step on its own, which may call out, a failed run's alert).
    Each segment inside it is a savepoint, so a cancelled or replayed segment rolls back alone."""

    def __init__(self, limit: int, seconds: float):
        self.limit, self.seconds = limit, seconds
        self.run_ids: list[int] = []  # the runs whose segments the open transaction holds
        self._atomic: transaction.Atomic | None = None
        self._turn: contextlib.ExitStack | None = None
        self._opened_at = 0.0
        self._board: sqlite_lock.WaitingBoard | None = None

    @property
    def is_open(self) -> bool:
        return self._atomic is not None

    def open(self) -> None:
        if self._atomic is not None:
            return
        turn = contextlib.ExitStack()
        connection = transaction.get_connection()
        if not connection.in_atomic_block:  # the group is the transaction: take this host's turn at the lock first
            self._board = sqlite_lock.waiting_board(connection)
            _let_waiters_in(self._board)
            turn.enter_context(write_turns.turn(connection))
        try:
            atomic = transaction.atomic()
            atomic.__enter__()
        except BaseException:
            turn.close()
            raise
        self._atomic, self._turn, self._opened_at = atomic, turn, time.monotonic()

    def ran(self, run: WorkflowRun) -> None:
        """A run of the group finished its turn: commit once the group is full or has held the lock long enough."""
        if self._atomic is None:
            return
        self.run_ids.append(run.pk)
        if (
            len(self.run_ids) >= self.limit
            or time.monotonic() - self._opened_at >= self.seconds
            or (self._board is not None and self._board.someone_waiting())
        ):
            self.commit()

    def commit(self) -> None:
        atomic, turn, ids = self._atomic, self._turn, self.run_ids
        self._atomic, self._turn, self.run_ids = None, None, []
        if atomic is None:
            return
        with turn or contextlib.nullcontext():  # the turn is handed on once the commit is done
            try:
                atomic.__exit__(None, None, None)
            except BaseException:
                self.run_ids = ids  # rolled back: the caller hands their leases back
                raise

    def rollback(self) -> None:
        atomic, turn = self._atomic, self._turn
        self._atomic, self._turn, self.run_ids = None, None, []
        if atomic is None:
            return
        with turn or contextlib.nullcontext():
            error = DatabaseError("the group's transaction is rolled back")
            atomic.__exit__(DatabaseError, error, None)


def _let_waiters_in(board: sqlite_lock.WaitingBoard | None) -> None:
    """Before a group opens: while another writer waits for the lock (an API request, most often), let it take the
    lock first, for YIELD_SECONDS at most."""
    if board is None or not board.someone_waiting():
        return
    deadline = time.monotonic() + YIELD_SECONDS
    while board.someone_waiting() and time.monotonic() < deadline:
        time.sleep(YIELD_POLL_SECONDS)


_local = threading.local()


def _current_group() -> _Group | None:
    return getattr(_local, "group", None)


def _close_group() -> None:
    group = _current_group()
    if group is not None:
        group.commit()


@contextlib.contextmanager
def grouped(limit: int | None = None, seconds: float | None = None) -> Iterator[_Group]:
    """Let the runs executed inside share write transactions (`_Group`): fewer BEGIN/COMMIT pairs and fewer hand-overs
    of SQLite's one write lock per run. What a group holds commits together or not at all: a worker that dies
    mid-group leaves its runs leased and unchanged, for the sweep to resume. An exception escaping rolls the open
    group back; on a normal exit it commits. A drain reached from a group's commit hooks (events consumed inline,
    `conversations.events.events_consumed_inline`) groups its own runs: the outer group is closed meanwhile."""
    outer = _current_group()
    if outer is not None and outer.is_open:
        raise TransactionManagementError("Run groups do not nest inside an open group.")
    group = _Group(limit or GROUP_RUNS, GROUP_SECONDS if seconds is None else seconds)
    _local.group = group
    try:
        yield group
    except BaseException:
        group.rollback()
        raise
    else:
        group.commit()
    finally:
        _local.group = outer


@contextlib.contextmanager
def _savepoints_off() -> Iterator[None]:
    """Inside a segment's first attempt, the services' own `atomic` blocks open no savepoint (a SAVEPOINT and a
    RELEASE per service call, the costliest statements of a step that changes nothing). A failure inside one then
    marks the whole transaction for rollback instead of its savepoint's part, which is what that attempt does
    anyway: the step's `_Replay` rolls the segment back and runs it again with savepoints (`_execute`). Only the
    atomic blocks opened inside this one are affected: the segment's own keeps its savepoint when it is nested (tests
    run inside a transaction). `Atomic` asks the connection for a savepoint and takes None for "none here", as it does
    where a backend has no savepoints; this connection's `savepoint` answers None meanwhile."""
    connection = transaction.get_connection()
    connection.savepoint = _no_savepoint
    try:
        yield
    finally:
        del connection.savepoint  # the backend's method again


def _no_savepoint() -> None:
    return None


def _segment_steps(
    run: WorkflowRun,
    steps: list[dict[str, Any]],
    data: dict[str, Any],
    recorded: dict[int, StepRun],
    ahead: dict[int, prerender.Prerendered],
    optimistic: bool = False,
) -> tuple[list[StepRun], dict[str, Any], bool]:
    """Execute steps until the segment ends (an outbound step, a wait or retry, the end, a stop or a failure, or a
    step whose templates must be rendered again, which the next segment does before its transaction), moving `run`
    in memory; return the StepRun rows to insert, the context and whether it went stale."""
    step_runs: list[StepRun] = []
    stale = False
    while run.status == RunStatus.RUNNING and run.position < len(steps) and _starts_segment(run, steps, recorded):
        if stale:
            data, stale = _fresh_context(run, data), False
        step = steps[run.position]
        step_type = step_types.require(step["type"])
        rendered = ahead.get(run.position)
        if step_runs and _renders_again(step_type, step, rendered, data):
            break
        step_run = StepRun(
            run=run, position=run.position, path=step["_path"], type=step["type"], attempts=1, started_at=clock.now()
        )
        started = time.monotonic()
        outcome = _execute(step_type, step, _step_context(run, data, step_run), run, optimistic, rendered)
        change = _settle(run, step_run, step, outcome, int((time.monotonic() - started) * 1000))
        step_runs.append(step_run)
        if change.skipped is not None and change.skipped.position not in recorded:
            step_runs.append(change.skipped)
        _apply_in_memory(run, change)
        if step_type.has_side_effects:
            stale = True
        else:
            data["vars"] = dict(run.variables)
    return step_runs, data, stale


def _renders_again(
    step_type: StepType, step: dict[str, Any], rendered: prerender.Prerendered | None, data: dict[str, Any]
) -> bool:
    """Whether a step inside a segment would have to render a template now (holding the segment's write lock): it
    has templates, and no rendering made ahead of the transaction that still holds for `data`."""
    if rendered is not None:
        return not rendered.fits(data)
    return prerender.template_inputs(step_type, step.get("config", {})) is not None


def _step_context(run: WorkflowRun, data: dict[str, Any], step_run: StepRun | None) -> StepContext:
    return StepContext(
        data=data,
        event=run.event,
        conversation=run.conversation,
        run=run,
        step_run=step_run,
        depth=run.event.depth + 1,
        trigger_type=run.event.type,
    )


def _start_step(run: WorkflowRun, step: dict[str, Any]) -> StepRun:
    """Record that the step is starting (visible as it happens); returns its StepRun."""
    step_run, _ = StepRun.objects.get_or_create(
        run=run, position=run.position, defaults={"type": step["type"], "path": step["_path"]}
    )
    return step_run


def _run_step(run: WorkflowRun, step: dict[str, Any], data: dict[str, Any]) -> StepOutcome | None:
    """Execute one step (or complete a finished wait) and move the run on; None when nothing was executed."""
    step_run = _start_step(run, step)
    if step_run.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED):  # finished before a crash: never again
        chosen = program.chosen_from_output(step, step_run.output) if step_run.status == StepStatus.SUCCEEDED else None
        _move(run, program.target(step, chosen))
        return None
    if step_run.status == StepStatus.WAITING:
        _complete_wait(run, step_run, step)
        return None
    step_type = step_types.require(step["type"])
    if step_run.status == StepStatus.RUNNING and step_run.attempts >= helpdesk_setting("RETRY_MAX_ATTEMPTS"):
        # Every attempt so far died with its worker (killed mid-call, e.g. by the task timeout): stop trying.
        outcome = StepOutcome.failed(f"The worker running this step stopped {step_run.attempts} times; giving up.")
        with transaction.atomic():
            _apply_outcome(run, step_run, step, outcome, 0)
        return outcome
    ctx = _step_context(run, data, step_run)
    started = time.monotonic()
    step_run.attempts += 1
    step_run.started_at = step_run.started_at or clock.now()
    if step_type.runs_in_transaction(step.get("config", {})):
        rendered = prerender.prerender(step_type, step.get("config", {}), ctx, kept=True)  # before the write lock
        with transaction.atomic():
            outcome = _execute(step_type, step, ctx, run, rendered=rendered)
            _apply_outcome(run, step_run, step, outcome, int((time.monotonic() - started) * 1000))
    else:
        # Calls to other systems cannot roll back, so they run outside any transaction (never holding a database
        # lock during network I/O); the idempotency key makes a repeat after a crash harmless at the receiver.
        # The attempt is committed first: one cut short by a dead worker still counts, and shows as running.
        step_run.status = StepStatus.RUNNING
        step_run.save(update_fields=["status", "attempts", "started_at"])
        outcome = _execute(step_type, step, ctx, run)
        with transaction.atomic():
            _apply_outcome(run, step_run, step, outcome, int((time.monotonic() - started) * 1000))
    return outcome


def _execute(
    step_type: StepType,
    step: dict[str, Any],
    ctx: StepContext,
    run: WorkflowRun,
    optimistic: bool = False,
    rendered: prerender.Prerendered | None = None,
) -> StepOutcome:
    """Render and execute one step; every failure becomes a failed outcome (with its input recorded). `optimistic`
    (a segment's first attempt): a writing step runs without a savepoint and `_Replay` replaces its failure.
    `rendered`: its config rendered before the transaction opened (or the error that render raised)."""
    config = step.get("config", {})
    step_run = ctx.step_run
    if step_run is None:
        raise ValueError("A run's step executes with its StepRun row.")
    try:
        if rendered is not None:
            rendered.apply(ctx)
        step_run.input = step_type.render(config, ctx)
        # A failing internal step's partial writes roll back (its result is still recorded); a step that writes
        # nothing needs no savepoint. Outbound steps get no transaction: on SQLite (BEGIN IMMEDIATE) it would hold
        # the write lock for the whole network call.
        savepoint = step_type.has_side_effects and step_type.runs_in_transaction(config)
        if savepoint and optimistic:
            outcome = _execute_unguarded(step_type, config, ctx)
        else:
            with transaction.atomic() if savepoint else contextlib.nullcontext():
                outcome = step_type.execute(config, ctx)
    except _Replay:
        raise
    except (ValidationError, RenderError) as exc:
        outcome = StepOutcome.failed(_error_text(exc))
    except DatabaseError as exc:  # the database failing is not the step failing: the run is resumed once it answers
        if optimistic and _for_want_of_a_savepoint(exc):
            raise _Replay from exc
        raise
    except Exception as exc:  # an unexpected bug in a step must fail the run visibly, not kill the worker
        logger.exception("Step %s of run %s crashed", run.position, run.pk)
        outcome = StepOutcome.failed(f"{type(exc).__name__}: {exc}")
    if optimistic and transaction.get_connection().needs_rollback:
        raise _Replay  # a statement failed inside a block that had no savepoint (`_savepoints_off`)
    if step_type.uses_secrets:
        _mask_step(step_run, outcome)
    return outcome


def _for_want_of_a_savepoint(exc: DatabaseError) -> bool:
    """A database error raised in a segment's first attempt that a savepoint would have contained: a block without
    one marked the transaction for rollback, or a query ran after that (`_savepoints_off`). The replay, with
    savepoints, either runs it through or raises it again."""
    return transaction.get_connection().needs_rollback or isinstance(exc, TransactionManagementError)


def _execute_unguarded(step_type: StepType, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
    """Execute a writing step with no savepoint: anything it raises but a database failure asks for a replay."""
    try:
        return step_type.execute(config, ctx)
    except DatabaseError:
        raise
    except Exception as exc:
        raise _Replay from exc


def _mask_step(step_run: StepRun, outcome: StepOutcome) -> None:
    secrets = secret_values()
    step_run.input = mask(step_run.input, secrets)
    outcome.output, outcome.error = mask(_jsonable(outcome.output), secrets), mask(outcome.error, secrets)
    outcome.variables = mask(_jsonable(outcome.variables), secrets)  # a remote may echo a secret into saved vars


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(
                f"{field}: {' '.join(m for e in errs for m in e.messages)}" for field, errs in exc.error_dict.items()
            )
        return " ".join(exc.messages)
    return str(exc)


@dataclass
class _RunChange:
    """Where a step's outcome moves its run: `advance` to a slot, `finish` with a status, or `wait` until
    `resume_at`; `skipped` is the StepRun of a step a false condition skipped."""

    kind: str
    to: int = 0
    status: str = ""
    error: str = ""
    resume_at: dt.datetime | None = None
    skipped: StepRun | None = None


def _settle(
    run: WorkflowRun, step_run: StepRun, step: dict[str, Any], outcome: StepOutcome, duration_ms: int
) -> _RunChange:
    """Record the step's result on `step_run` and `run.variables` (in memory) and decide where the run moves: on, to
    a stop, to a wait or retry, or to failure. Shared by segments (written in bulk) and single steps."""
    step_run.output, step_run.error, step_run.duration_ms = _jsonable(outcome.output), outcome.error, duration_ms
    run.variables = {**run.variables, **_jsonable(outcome.variables)}
    if outcome.status in (Outcome.WAITING, Outcome.RETRY):
        step_run.status = StepStatus.WAITING if outcome.status == Outcome.WAITING else StepStatus.PENDING
        return _RunChange("wait", status=RunStatus.WAITING, resume_at=outcome.resume_at)
    step_run.finished_at = clock.now()
    if outcome.status == Outcome.FAILED:
        step_run.status = StepStatus.FAILED
        return _RunChange(
            "finish",
            status=RunStatus.FAILED,
            error=f"Step {_step_number(step)} ({step['type']}) failed: {outcome.error}",
        )
    step_run.status = StepStatus.SUCCEEDED
    if outcome.status != Outcome.CONDITION_FALSE:
        return _RunChange("advance", to=program.target(step, outcome.chosen_path))
    on_false = step.get("on_false") or "stop"
    if on_false == "stop":
        return _RunChange("finish", status=RunStatus.STOPPED)
    if on_false == "skip_next" and step["_sibling"] is not None:
        sibling = steps_of(run)[step["_sibling"]]
        skipped = StepRun(
            run=run,
            position=step["_sibling"],
            path=sibling["_path"],
            type=sibling["type"],
            status=StepStatus.SKIPPED,
            output={"skipped": "the previous condition was false"},
        )
        return _RunChange("advance", to=sibling["_after"], skipped=skipped)
    return _RunChange("advance", to=step["_after"])


def _step_number(step: dict[str, Any]) -> str:
    """How an error names a step: its 1-based number at the top level, its path inside a branch."""
    return step["_path"] if "." in step["_path"] else str(step["_top"] + 1)


def _apply_in_memory(run: WorkflowRun, change: _RunChange) -> None:
    """Move the run object as `change` says (a segment writes it once, at its end)."""
    if change.kind == "advance":
        run.position = change.to
    elif change.kind == "wait":
        run.status, run.resume_at, run.lease_until = change.status, change.resume_at, None
    else:
        run.status, run.error, run.finished_at = change.status, change.error, clock.now()
        run.resume_at = run.lease_until = None


def _apply_outcome(
    run: WorkflowRun, step_run: StepRun, step: dict[str, Any], outcome: StepOutcome, duration_ms: int
) -> None:
    """Record one step's result now and move the run (the single-step path: resumed and outbound steps)."""
    change = _settle(run, step_run, step, outcome, duration_ms)
    step_run.save()
    if change.kind == "wait":
        _save_if_running(
            run, status=RunStatus.WAITING, resume_at=change.resume_at, lease_until=None, variables=run.variables
        )
    elif change.kind == "finish":
        _finish(run, change.status, error=change.error)
    else:
        if change.skipped is not None:
            skipped = change.skipped
            StepRun.objects.update_or_create(
                run=run,
                position=skipped.position,
                defaults={
                    "type": skipped.type,
                    "path": skipped.path,
                    "status": skipped.status,
                    "output": skipped.output,
                },
            )
        _move(run, change.to)


def _complete_wait(run: WorkflowRun, step_run: StepRun, step: dict[str, Any]) -> None:
    """A wait is over: its step type may settle how (`StepType.resume`, e.g. a `wait_for` that timed out), then
    the run moves on."""
    with transaction.atomic():
        settled = step_types.require(step["type"]).resume(step.get("config", {}), run, step_run)
        if settled is not None:
            step_run.output = _jsonable(settled.output)
            run.variables = {**run.variables, **_jsonable(settled.variables)}
        step_run.status, step_run.finished_at = StepStatus.SUCCEEDED, clock.now()
        step_run.save(update_fields=["status", "finished_at", "output"])
        _move(run, step["_after"])


def _move(run: WorkflowRun, to: int) -> None:
    """Move to the slot `to`, renewing the lease; a run cancelled meanwhile by someone else stops here."""
    run.position = to
    run.lease_until = clock.now() + LEASE
    moved = WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        position=run.position, variables=run.variables, lease_until=run.lease_until
    )
    if not moved:
        run.refresh_from_db(fields=["status", "position", "lease_until"])


def _finish(run: WorkflowRun, status: str, error: str = "") -> None:
    _save_if_running(
        run,
        status=status,
        error=error,
        finished_at=clock.now(),
        resume_at=None,
        lease_until=None,
        variables=run.variables,
        position=run.position,
    )


def _save_if_running(run: WorkflowRun, **fields: Any) -> bool:
    """Write the run's next state only while it is still running: a cancel that landed while a step executed must
    win, not be overwritten (the run then keeps the status the canceller gave it)."""
    moved = WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(**fields)
    if moved:
        for name, value in fields.items():
            setattr(run, name, value)
    else:
        run.refresh_from_db(fields=["status", "error", "finished_at", "resume_at", "lease_until", "position"])
    return bool(moved)


def _jsonable(value: Any) -> Any:
    """Step outputs are stored as JSON: datetimes and other objects become strings."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)

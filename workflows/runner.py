"""The runner: executes a run's steps in order, recording each result as it happens.

Durability rules (SPEC §7):
- A worker claims a run with a conditional UPDATE and holds a lease; a run whose lease expired (its worker died) is
  claimed again by the sweep.
- Each step's effects, its StepRun result and the run's new position commit in one transaction, so a worker killed
  mid-step leaves the step to be executed again with no partial effect, and a finished step is never executed again.
- Waits and retries are a status plus a `resume_at` column: nothing sleeps in a worker.
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import logging
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from conversations import clock
from workflows.choices import RunStatus, StepStatus
from workflows.context import RenderError, build_context
from workflows.models import StepRun, WorkflowRun
from workflows.services import definition_for_version
from workflows.steps import step_types
from workflows.steps.registry import StepContext, StepOutcome

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=150)  # longer than the django-q2 task timeout (renewed after each step)


def claimable(now: dt.datetime) -> Q:
    """Runs a worker may take now: queued or waiting and due, or running with an expired lease (a dead worker)."""
    return Q(status__in=[RunStatus.QUEUED, RunStatus.WAITING], resume_at__lte=now) | Q(
        status=RunStatus.RUNNING, lease_until__lt=now
    )


def claim_run(run_id: int) -> WorkflowRun | None:
    """Take a run for this worker, or None when another worker has it or it is not due."""
    now = clock.now()
    claimed = WorkflowRun.objects.filter(claimable(now), pk=run_id).update(
        status=RunStatus.RUNNING, lease_until=now + LEASE, started_at=Coalesce(F("started_at"), Value(now))
    )
    if not claimed:
        return None
    return WorkflowRun.objects.select_related("event", "conversation", "workflow").get(pk=run_id)


def execute_run(run_id: int, context: dict | None = None) -> str | None:
    """Claim a run and execute its remaining steps; return its status afterwards (None if not claimed).

    `context` is a context of the run's event and conversation that is still current (read since anything last
    changed them in this worker); without it the run reads its own."""
    return _run(run_id, context)[0]


def execute_runs(run_ids: list[int], context: dict | None = None) -> list[str | None]:
    """Execute the runs one event just started, back to back in this worker. They share one context: the one the
    dispatcher matched them on, then each run's last one, as long as no step with side effects ran since it was
    read; otherwise the next step or run reads it again. Returns each run's status (None if not claimed)."""
    statuses = []
    for run_id in run_ids:
        status, context = _run(run_id, context)
        statuses.append(status)
    return statuses


def _run(run_id: int, context: dict | None) -> tuple[str | None, dict | None]:
    """Execute one run; return its status and its context if that is still current (None once a step with side
    effects ran after it was read)."""
    run = claim_run(run_id)
    if run is None:
        return None, context
    steps = definition_for_version(run)["steps"]
    data, stale = _context_for(run, context), False
    while run.status == RunStatus.RUNNING and run.position < len(steps):
        if stale:  # read again only when another step needs it (not after the last one)
            data, stale = build_context(run.event, run.variables, run.conversation), False
        step = steps[run.position]
        outcome = _run_step(run, step, data)
        if outcome is not None and step_types.get(step["type"]).has_side_effects:
            stale = True
        else:
            data["vars"] = dict(run.variables)
    if run.status == RunStatus.RUNNING:
        _finish(run, RunStatus.SUCCEEDED)
    return run.status, None if stale else data


def _context_for(run: WorkflowRun, context: dict | None) -> dict:
    """The run's context: a private copy of a current one (with this run's variables), or read fresh."""
    if context is None:
        return build_context(run.event, run.variables, run.conversation)
    return {**copy.deepcopy(context), "vars": dict(run.variables)}


def _step_context(run: WorkflowRun, data: dict, step_run: StepRun) -> StepContext:
    return StepContext(data=data, event=run.event, conversation=run.conversation, run=run, step_run=step_run,
                       depth=run.event.depth + 1, trigger_type=run.event.type)


def _start_step(run: WorkflowRun, step: dict) -> StepRun:
    """Record that the step is starting (visible as it happens); returns its StepRun."""
    step_run, _ = StepRun.objects.get_or_create(run=run, position=run.position, defaults={"type": step["type"]})
    return step_run


def _run_step(run: WorkflowRun, step: dict, data: dict) -> StepOutcome | None:
    """Execute one step (or complete a finished wait) and move the run on; None when nothing was executed."""
    step_run = _start_step(run, step)
    if step_run.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED):  # finished before a crash: never again
        _advance(run, 1)
        return None
    if step_run.status == StepStatus.WAITING:
        _complete_wait(run, step_run)
        return None
    step_type = step_types.get(step["type"])
    if step_run.status == StepStatus.RUNNING and step_run.attempts >= settings.HELPDESK_RETRY_MAX_ATTEMPTS:
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
        with transaction.atomic():
            outcome = _execute(step_type, step, ctx, run)
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


def _execute(step_type, step: dict, ctx: StepContext, run: WorkflowRun) -> StepOutcome:
    """Render and execute one step; every failure becomes a failed outcome (with its input recorded)."""
    config = step.get("config", {})
    try:
        ctx.step_run.input = step_type.render(config, ctx)
        # A failing internal step's partial writes roll back (its result is still recorded). Outbound steps get
        # no transaction: on SQLite (BEGIN IMMEDIATE) it would hold the write lock for the whole network call.
        with transaction.atomic() if step_type.runs_in_transaction(config) else contextlib.nullcontext():
            outcome = step_type.execute(config, ctx)
    except (ValidationError, RenderError) as exc:
        outcome = StepOutcome.failed(_error_text(exc))
    except Exception as exc:  # an unexpected bug in a step must fail the run visibly, not kill the worker
        logger.exception("Step %s of run %s crashed", run.position, run.pk)
        outcome = StepOutcome.failed(f"{type(exc).__name__}: {exc}")
    if step_type.uses_secrets:
        _mask_step(ctx.step_run, outcome)
    return outcome


def _mask_step(step_run: StepRun, outcome: StepOutcome) -> None:
    from workflows.integrations import mask, secret_values

    secrets = secret_values()
    step_run.input = mask(step_run.input, secrets)
    outcome.output, outcome.error = mask(_jsonable(outcome.output), secrets), mask(outcome.error, secrets)
    outcome.variables = mask(_jsonable(outcome.variables), secrets)  # a remote may echo a secret into saved vars


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{field}: {' '.join(m for e in errs for m in e.messages)}"
                             for field, errs in exc.error_dict.items())
        return " ".join(exc.messages)
    return str(exc)


def _apply_outcome(run: WorkflowRun, step_run: StepRun, step: dict, outcome: StepOutcome, duration_ms: int) -> None:
    """Record the step's result and move the run: on, to a stop, to a wait or retry, or to failure."""
    step_run.output, step_run.error, step_run.duration_ms = _jsonable(outcome.output), outcome.error, duration_ms
    run.variables = {**run.variables, **_jsonable(outcome.variables)}
    if outcome.status in ("waiting", "retry"):
        step_run.status = StepStatus.WAITING if outcome.status == "waiting" else StepStatus.PENDING
        step_run.save()
        _save_if_running(run, status=RunStatus.WAITING, resume_at=outcome.resume_at, lease_until=None,
                         variables=run.variables)
        return
    step_run.finished_at = clock.now()
    if outcome.status == "failed":
        step_run.status = StepStatus.FAILED
        step_run.save()
        _finish(run, RunStatus.FAILED, error=f"Step {run.position + 1} ({step['type']}) failed: {outcome.error}")
        return
    if outcome.status == "condition_false":
        step_run.status = StepStatus.SUCCEEDED
        step_run.save()
        _on_false(run, step.get("on_false") or "stop")
        return
    step_run.status = StepStatus.SUCCEEDED
    step_run.save()
    _advance(run, 1)


def _on_false(run: WorkflowRun, on_false: str) -> None:
    if on_false == "stop":
        _finish(run, RunStatus.STOPPED, error="")
    elif on_false == "skip_next":
        StepRun.objects.update_or_create(
            run=run, position=run.position + 1,
            defaults={"type": _step_type_at(run, run.position + 1), "status": StepStatus.SKIPPED,
                      "output": {"skipped": "the previous condition was false"}},
        )
        _advance(run, 2)
    else:
        _advance(run, 1)


def _step_type_at(run: WorkflowRun, position: int) -> str:
    steps = definition_for_version(run)["steps"]
    return steps[position]["type"] if position < len(steps) else ""


def _complete_wait(run: WorkflowRun, step_run: StepRun) -> None:
    with transaction.atomic():
        step_run.status, step_run.finished_at = StepStatus.SUCCEEDED, clock.now()
        step_run.save(update_fields=["status", "finished_at"])
        _advance(run, 1)


def _advance(run: WorkflowRun, by: int) -> None:
    """Move to the next step, renewing the lease; a run cancelled meanwhile by someone else stops here."""
    run.position += by
    run.lease_until = clock.now() + LEASE
    moved = WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        position=run.position, variables=run.variables, lease_until=run.lease_until
    )
    if not moved:
        run.refresh_from_db(fields=["status", "position", "lease_until"])


def _finish(run: WorkflowRun, status: str, error: str = "") -> None:
    _save_if_running(run, status=status, error=error, finished_at=clock.now(), resume_at=None, lease_until=None,
                     variables=run.variables, position=run.position)


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

"""The dry run (docs/managers.md): what a workflow would do on a conversation or a sample event, with no side effects.

Steps without side effects (condition, set_variable, wait) really execute, so variables and branches flow exactly as
in a run; every other step only describes what it would do over the real context. The whole dry run happens inside a
transaction that is rolled back at the end, so even a step that misbehaved could not leave a row behind, and no
event is ever written (the event a dry run reacts to is built in memory and never saved). Internal steps render
their templates before that transaction opens (`workflows.engine.prerender`), so no such render holds the write
lock; steps that call other systems only describe their request, rendered inside.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from conversations import clock
from conversations.models import Conversation, Event
from workflows.engine import prerender, program
from workflows.engine.context import RenderError, build_context
from workflows.engine.definition import validate_definition
from workflows.integrations.secrets import mask_step_result
from workflows.steps import step_types
from workflows.steps.registry import Outcome, StepContext, StepOutcome, StepType
from workflows.triggers import registry as triggers

logger = logging.getLogger(__name__)

MAX_ID = 2**63 - 1
WOULD_RUN, SKIPPED, STOPPED, NOT_REACHED, FAILED = "would_run", "skipped", "stopped", "not_reached", "failed"


def dry_run(
    *, definition: dict[str, Any], conversation: Conversation | None = None, sample_event: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run a definition's steps against a conversation and/or a sample event and report what each would do.

    Raises DefinitionError for an invalid definition, ValidationError for a sample event it cannot read.
    `sample_event` is `{"type"?, "payload"?, "occurred_at"?}`; its type defaults to the trigger type, so a sample of
    a message only needs `{"payload": {"body": ..., "sender_type": ...}}`; its time defaults to now.
    """
    # A missing team or integration is not refused here: its step shows as failed, naming it (a template's draft).
    cleaned = validate_definition(definition, check_references=False)
    event = _sample_event(cleaned, conversation, sample_event or {})
    data = _context(event, conversation)
    ahead = _render_ahead(cleaned["steps"], event, conversation, data)
    with transaction.atomic():
        try:
            report = {"trigger": _trigger_report(cleaned["trigger"], event, data)}
            report.update(_run_steps(cleaned["steps"], event, conversation, data, ahead))
        finally:
            transaction.set_rollback(True)
    return report


def trigger_report(trigger: dict[str, Any], event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """Whether `event` (a recorded one, for a replay) would start a workflow with this validated trigger."""
    return _trigger_report(trigger, event, data)


def dry_run_steps(*, steps: list[dict[str, Any]], event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """The steps' part of a dry run for a recorded event, over a context the caller built (a replay reads a whole
    chunk's contexts at once): `{"steps", "result"}`, inside a transaction that is always rolled back."""
    ahead = _render_ahead(steps, event, event.conversation, data)
    with transaction.atomic():
        try:
            return _run_steps(steps, event, event.conversation, data, ahead)
        finally:
            transaction.set_rollback(True)


def _sample_event(definition: dict[str, Any], conversation: Conversation | None, sample: dict[str, Any]) -> Event:
    """The event the dry run reacts to: built in memory (never saved), depth 0 like a human cause."""
    message_id = (sample.get("payload") or {}).get("message_id")
    if message_id is not None and not (
        isinstance(message_id, int) and not isinstance(message_id, bool) and 0 < message_id <= MAX_ID
    ):
        raise ValidationError({"event": _("payload.message_id is the id (a number) of a message.")})
    return Event(
        type=sample.get("type") or definition["trigger"]["type"],
        occurred_at=event_time(sample.get("occurred_at")),
        conversation=conversation,
        contact=conversation.contact if conversation is not None else None,
        payload=dict(sample.get("payload") or {}),
        depth=0,
    )


def event_time(value: Any) -> dt.datetime:
    """The sample event's own time (a datetime or ISO text; naive means UTC), so time conditions such as "within
    business hours" are asked about when it happened; now only when the sample does not say."""
    if value in (None, ""):
        return clock.now()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            value = None
    if not isinstance(value, dt.datetime):
        raise ValidationError({"event": _("occurred_at is a date and time, e.g. 2026-12-03T19:30:00+01:00.")})
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _context(event: Event, conversation: Conversation | None) -> dict[str, Any]:
    """The run context; a sample message given only in the payload (`body`, `sender_type`) becomes `message.*`."""
    data = build_context(event, {}, conversation)
    payload = event.payload
    if data["message"] is None and "body" in payload:
        data["message"] = {
            "id": None,
            "body": str(payload.get("body") or ""),
            "sender_type": payload.get("sender_type"),
            "internal": bool(payload.get("internal", False)),
            "sentiment": payload.get("sentiment"),
            "created_at": event.occurred_at.isoformat(),
        }
    return data


def _trigger_report(trigger: dict[str, Any], event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """Whether this event would start the workflow (its type and its trigger config filters)."""
    kind = triggers.trigger_type(trigger["type"])
    try:
        matches = event.type == trigger["type"] and kind is not None and kind.matches(trigger["config"], event, data)
    except (TypeError, ValueError, AttributeError) as exc:  # a sample payload of the wrong shape matches nothing
        return {
            "type": trigger["type"],
            "event_type": event.type,
            "matches": False,
            "error": _("The sample event does not fit this trigger: %(error)s") % {"error": exc},
        }
    return {"type": trigger["type"], "event_type": event.type, "matches": bool(matches)}


def _render_ahead(
    steps: list[dict[str, Any]], event: Event, conversation: Conversation | None, data: dict[str, Any]
) -> dict[int, prerender.Prerendered]:
    """The internal steps' templates rendered over the starting context, before the transaction opens (a step whose
    inputs an earlier step changed renders again when it is reached)."""
    ctx = _dry_context(event, conversation, data)
    ahead = {}
    for position, step in enumerate(program.flatten(steps)):
        step_type = step_types.require(step["type"])
        config = step.get("config", {})
        if step_type.runs_in_transaction(config):
            made = prerender.prerender(step_type, config, ctx)
            if made is not None:
                ahead[position] = made
    return ahead


def _dry_context(event: Event, conversation: Conversation | None, data: dict[str, Any]) -> StepContext:
    return StepContext(
        data=data, event=event, conversation=conversation, depth=event.depth + 1, dry_run=True, trigger_type=event.type
    )


def _run_steps(
    steps: list[dict[str, Any]],
    event: Event,
    conversation: Conversation | None,
    data: dict[str, Any],
    ahead: dict[int, prerender.Prerendered],
) -> dict[str, Any]:
    """Walk the steps the way the runner does (on_false stop / continue / skip_next, the path a branch takes) and
    report each one, nested ones included (each with its `path`); `ahead`: renders made before the transaction."""
    slots = program.flatten(steps)
    reports = [_report(slot["_top"], slot, NOT_REACHED) for slot in slots]
    position, result = 0, "succeeded"
    while position < len(slots):
        step = slots[position]
        outcome, report = _dry_step(step, step["_top"], event, conversation, data, ahead.get(position))
        reports[position] = report
        if outcome.status == Outcome.FAILED:
            result = "failed"
            break
        data["vars"] = {**data["vars"], **_plain(outcome.variables)}
        if outcome.status != Outcome.CONDITION_FALSE:
            position = program.target(step, outcome.chosen_path)
            continue
        on_false = step.get("on_false") or "stop"
        if on_false == "stop":
            report["status"], result = STOPPED, "stopped"
            break
        if on_false == "skip_next" and step["_sibling"] is not None:
            sibling = slots[step["_sibling"]]
            reports[step["_sibling"]] = _report(
                sibling["_top"], sibling, SKIPPED, output={"skipped": _("the previous condition was false")}
            )
            position = sibling["_after"]
        else:
            position = step["_after"]
    return {"steps": reports, "result": {"status": result, "vars": data["vars"]}}


def _dry_step(
    step: dict[str, Any],
    position: int,
    event: Event,
    conversation: Conversation | None,
    data: dict[str, Any],
    ahead: prerender.Prerendered | None = None,
) -> tuple[StepOutcome, dict[str, Any]]:
    """Execute a side-effect-free step, or describe a side-effecting one; never raises. `ahead`: its templates
    rendered before the transaction, used while what they read is unchanged."""
    step_type: StepType = step_types.require(step["type"])
    config = step.get("config", {})
    ctx = _dry_context(event, conversation, data)
    started = time.monotonic()
    rendered: dict[str, Any] = {}
    try:
        if ahead is not None and ahead.fits(data):
            ahead.apply(ctx)
        rendered = step_type.render(config, ctx)
        if step_type.has_side_effects:
            outcome = StepOutcome(output=step_type.describe(config, ctx))
        else:
            with transaction.atomic():
                outcome = step_type.execute(config, ctx)
    except (ValidationError, RenderError) as exc:
        outcome = StepOutcome.failed(_error_text(exc))
    except Exception as exc:  # a bug in one step's describe must show in the report, not turn into a 500
        logger.exception("Dry run of step %s (%s) crashed", position, step["type"])
        outcome = StepOutcome.failed(f"{type(exc).__name__}: {exc}")
    if step_type.uses_secrets:  # rendered `secrets.*` templates: mask them as the runner does
        rendered = mask_step_result(rendered, outcome)
    status = FAILED if outcome.status == Outcome.FAILED else WOULD_RUN
    report = _report(
        position,
        step,
        status,
        input=rendered,
        output=outcome.output,
        error=outcome.error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    return outcome, report


def _report(position: int, step: dict[str, Any], status: str, **fields: Any) -> dict[str, Any]:
    """One step's line in the dry-run report, in the shape of a run's step results (docs/api.md)."""
    return {
        "position": position,
        "path": step.get("_path", str(position)),
        "type": step["type"],
        "status": status,
        "attempts": 0,
        "duration_ms": fields.get("duration_ms", 0),
        "input": _plain(fields.get("input", {})),
        "output": _plain(fields.get("output", {})),
        "error": fields.get("error", ""),
    }


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def _plain(value: Any) -> Any:
    """JSON-safe data: timestamps become ISO text, anything else unknown becomes its text."""

    def default(item: Any) -> str:
        return item.isoformat() if isinstance(item, (dt.datetime, dt.date)) else str(item)

    return json.loads(json.dumps(value, default=default))

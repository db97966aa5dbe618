"""Macros: an agent's saved set of internal steps, applied to one conversation at once and as that agent.

A macro reuses the workflow step format, registry and validator (`workflows.engine.definition.validate_steps`), but only
step types marked `internal` (they change this helpdesk's own records: tags, status, priority, assignment, a
ticket, a canned reply). Applying one is not a workflow run: the steps execute synchronously, in one transaction,
through the same step modules with a `StepContext` whose `actor` is the agent and whose depth is 0, so every change
records the same domain event a person's change does (and workflows may react to it). A failing step rolls the
whole macro back and comes back as a 400 naming the step.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from conversations.models import Conversation
from workflows.engine import context
from workflows.engine.definition import DefinitionError, validate_steps
from workflows.models import Macro
from workflows.steps import step_types
from workflows.steps.registry import StepContext

# Macros are applied by a person on one conversation, like a manual run: step checks that depend on the trigger
# (e.g. `transcribe` needs `recording.uploaded`) see this trigger type.
MACRO_TRIGGER = "manual"


def internal_step_types() -> list[str]:
    """The step types a macro may contain, by name."""
    return [name for name, step_type in step_types.items() if step_type.internal]


def _not_internal(steps: Any) -> dict[str, list[str]]:
    """`steps[i].type` errors for every known step type that is not internal (unknown ones the validator names)."""
    allowed = ", ".join(internal_step_types())
    errors = {}
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        step_type = step_types.get(step.get("type")) if isinstance(step, dict) else None
        if step_type is not None and not step_type.internal:
            errors[f"steps[{index}].type"] = [
                f'"{step_type.type}" is not an internal step type; a macro may only use: {allowed}.']
    return errors


def validate_macro_steps(steps: Any) -> list[dict[str, Any]]:
    """The macro's steps checked (internal types only, then every workflow rule) and normalised."""
    errors = _not_internal(steps)
    if errors:
        raise ValidationError(errors)
    try:
        return validate_steps(steps, trigger_type=MACRO_TRIGGER)
    except DefinitionError as exc:
        raise ValidationError(exc.errors) from exc


def _validate_name(name: Any, macro: Macro | None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": "A macro needs a name."})
    name = name.strip()
    if len(name) > 200:
        raise ValidationError({"name": "A name has at most 200 characters."})
    if Macro.objects.filter(name__iexact=name).exclude(pk=getattr(macro, "pk", None)).exists():
        raise ValidationError({"name": f'A macro named "{name}" exists already.'})
    return name


def macro_create(*, name: str, steps: Any, created_by=None, active: bool = True) -> Macro:
    """Save a new macro after checking its name and steps."""
    return Macro.objects.create(name=_validate_name(name, None), steps=validate_macro_steps(steps),
                                created_by=created_by, active=bool(active))


def macro_update(*, macro: Macro, name: str, steps: Any, active: bool) -> Macro:
    """Change a macro's name, steps or switch; checked as on create."""
    macro.name, macro.steps = _validate_name(name, macro), validate_macro_steps(steps)
    macro.active = bool(active)
    macro.save()
    return macro


def macros_for_agents() -> QuerySet:
    """The macros agents are offered: the active ones, by name."""
    return Macro.objects.filter(active=True).order_by("name", "id")


def macro_context(conversation: Conversation) -> dict[str, Any]:
    """The plain data a macro's templates read: the conversation and its contact as a run sees them, no event."""
    return {"event": {"type": MACRO_TRIGGER}, "conversation": context.conversation_data(conversation),
            "contact": context.contact_data(conversation.contact), "message": None, "sla": {}, "vars": {}}


def _apply_step(step: dict, position: int, conversation: Conversation, agent) -> None:
    """Execute one step as the agent (depth 0, like any change a person makes); a failure names the step."""
    step_type = step_types.get(step["type"])
    ctx = StepContext(data=macro_context(conversation), event=None, conversation=conversation, depth=0,
                      trigger_type=MACRO_TRIGGER, actor=agent)
    try:
        outcome = step_type.execute(step.get("config", {}), ctx)
    except ValidationError as exc:
        raise ValidationError({f"steps[{position}]": exc.messages}) from exc
    if outcome.status == "failed":
        raise ValidationError({f"steps[{position}]": outcome.error})


def macro_apply(*, macro: Macro, conversation: Conversation, agent) -> Conversation:
    """Apply every step of an active macro to the conversation now, as `agent`; all of it or, on a failure, none."""
    if not macro.active:
        raise ValidationError({"macro": f'The macro "{macro.name}" is switched off.'})
    with transaction.atomic():
        for position, step in enumerate(macro.steps):
            conversation = Conversation.objects.select_related("contact", "assignee", "team").get(pk=conversation.pk)
            _apply_step(step, position, conversation, agent)
    return conversation

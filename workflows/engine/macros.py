"""Macros: an agent's saved set of internal steps, applied to one conversation at once and as that agent.

A macro reuses the workflow step format, registry and validator (`workflows.engine.definition.validate_steps`), but only
step types marked `internal` (they change this helpdesk's own records: tags, status, priority, assignment, a
ticket, a canned reply). Applying one is not a workflow run: the steps execute synchronously, in one transaction,
through the same step modules with a `StepContext` whose `actor` is the agent and whose depth is 0, so every change
records the same domain event a person's change does (and workflows may react to it). A failing step rolls the
whole macro back and comes back as a 400 naming the step.

Macros v2 (docs/agent_day.md): `inputs` ([{"key", "label", "type"}]) are asked before applying and read as
`{{ inputs.<key> }}` in the steps; `macro_apply_bulk` applies one macro to up to 100 conversations, each in its own
transaction, and lists each outcome; a macro with an `owner` is that agent's personal macro.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from conversations import services as conversation_services
from conversations.choices import SenderType
from conversations.models import Conversation
from workflows.engine import context, prerender
from workflows.engine.definition import DefinitionError, validate_steps
from workflows.models import Macro
from workflows.steps import step_types
from workflows.steps.registry import StepContext
from workflows.steps.wording import step_sentence

# Macros are applied by a person on one conversation, like a manual run: step checks that depend on the trigger
# (e.g. `transcribe` needs `recording.uploaded`) see this trigger type.
MACRO_TRIGGER = "manual"
REPLY_STEP = "auto_reply"  # the step whose text fills the reply box in a preview
INPUT_TYPES = ("text", "number", "date")
INPUT_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
MAX_INPUTS = 10
MAX_INPUT_LENGTH = 1000
MAX_BULK = 100
_UNSET: Any = object()


def internal_step_types() -> list[str]:
    """The step types a macro may contain, by name."""
    return [name for name, step_type in step_types.items() if step_type.internal]


def _not_internal(steps: Any) -> dict[str, list[str]]:
    """`steps[i].type` errors for every known step type that is not internal (unknown ones the validator names)."""
    allowed = ", ".join(internal_step_types())
    errors = {}
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        step_type = step_types.get(step.get("type", "")) if isinstance(step, dict) else None
        if step_type is not None and not step_type.internal:
            errors[f"steps[{index}].type"] = [
                f'"{step_type.type}" is not an internal step type; a macro may only use: {allowed}.'
            ]
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
    existing = Macro.objects.filter(name__iexact=name)
    if (existing.exclude(pk=macro.pk) if macro is not None and macro.pk else existing).exists():
        raise ValidationError({"name": f'A macro named "{name}" exists already.'})
    return str(name)


def validate_inputs(inputs: Any) -> list[dict[str, str]]:
    """`[{"key", "label", "type"}]`: keys are names (letters, digits, _) used once, types text, number or date."""
    if inputs in (None, ""):
        return []
    if not isinstance(inputs, list) or len(inputs) > MAX_INPUTS:
        raise ValidationError({"inputs": f'Inputs are a list of at most {MAX_INPUTS} {{"key", "label", "type"}}.'})
    errors, seen, clean = {}, set(), []
    for index, item in enumerate(inputs):
        if not isinstance(item, dict) or set(item) - {"key", "label", "type"}:
            errors[f"inputs[{index}]"] = ['An input is {"key", "label", "type"}.']
            continue
        key, label, kind = item.get("key"), item.get("label") or item.get("key"), item.get("type", "text")
        if not isinstance(key, str) or not INPUT_KEY.match(key) or key in seen:
            errors[f"inputs[{index}].key"] = [_("A key is a name of letters, digits and _, used once.")]
        if not isinstance(label, str) or len(label) > 200:
            errors[f"inputs[{index}].label"] = [_("A label is a text of at most 200 characters.")]
        if kind not in INPUT_TYPES:
            errors[f"inputs[{index}].type"] = [_("Use one of: %(choices)s.") % {"choices": ", ".join(INPUT_TYPES)}]
        seen.add(key)
        clean.append({"key": key, "label": label, "type": kind})
    if errors:
        raise ValidationError(errors)
    return clean


def clean_input_values(macro: Macro, values: Any) -> dict[str, Any]:
    """The values given for the macro's inputs, each required and of its type; errors name `inputs.<key>`."""
    values = values if values not in (None, "") else {}
    if not isinstance(values, dict):
        raise ValidationError({"inputs": _("Give the inputs as an object of key: value.")})
    errors, clean = {}, {}
    for spec in macro.inputs or []:
        key, raw = spec["key"], values.get(spec["key"])
        text = raw if isinstance(raw, str) else ("" if raw is None or isinstance(raw, bool) else str(raw))
        text = text.strip()
        if not text:
            errors[f"inputs.{key}"] = [_("%(label)s is required.") % {"label": spec["label"]}]
        elif len(text) > MAX_INPUT_LENGTH:
            errors[f"inputs.{key}"] = [_("At most %(max)s characters.") % {"max": MAX_INPUT_LENGTH}]
        elif spec["type"] == "number" and not re.fullmatch(r"-?\d+(\.\d+)?", text):
            errors[f"inputs.{key}"] = [_("Give a number.")]
        elif spec["type"] == "date" and not _is_date(text):
            errors[f"inputs.{key}"] = [_("Give a date as YYYY-MM-DD.")]
        else:
            clean[key] = text
    unknown = sorted(set(values) - {spec["key"] for spec in macro.inputs or []})
    errors.update({f"inputs.{key}": [_("This macro asks for no such input.")] for key in unknown})
    if errors:
        raise ValidationError(errors)
    return clean


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def macro_create(
    *, name: str, steps: Any, created_by: Any = None, active: bool = True, inputs: Any = None, owner: Any = None
) -> Macro:
    """Save a new macro after checking its name, inputs and steps (`owner` set: a personal macro)."""
    return Macro.objects.create(
        name=_validate_name(name, None),
        steps=validate_macro_steps(steps),
        inputs=validate_inputs(inputs),
        created_by=created_by,
        active=bool(active),
        owner=owner,
    )


def macro_update(*, macro: Macro, name: str, steps: Any, active: bool, inputs: Any = _UNSET) -> Macro:
    """Change a macro's name, steps, inputs or switch; checked as on create."""
    macro.name, macro.steps = _validate_name(name, macro), validate_macro_steps(steps)
    if inputs is not _UNSET:
        macro.inputs = validate_inputs(inputs)
    macro.active = bool(active)
    macro.save()
    return macro


def macros_for_agents(user: Any = None) -> QuerySet[Macro]:
    """The macros agents are offered: the active shared ones and the user's own personal ones, by name."""
    mine = Q(owner__isnull=True) | Q(owner=user) if user is not None else Q(owner__isnull=True)
    return Macro.objects.filter(mine, active=True).order_by("name", "id")


def macros_visible_to(user: Any) -> QuerySet[Macro]:
    """Every macro the user may read: shared ones (active or not) and their own personal ones."""
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def macro_context(conversation: Conversation, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The plain data a macro's templates read: the conversation and its contact as a run sees them, no event, and
    the values given for the macro's inputs."""
    return {
        "event": {"type": MACRO_TRIGGER},
        "conversation": context.conversation_data(conversation),
        "contact": context.contact_data(conversation.contact),
        "message": None,
        "sla": {},
        "vars": {},
        "inputs": dict(inputs or {}),
    }


def _macro_step_context(conversation: Conversation, agent: Any, inputs: dict[str, Any]) -> StepContext:
    return StepContext(
        data=macro_context(conversation, inputs),
        event=None,
        conversation=conversation,
        depth=0,
        trigger_type=MACRO_TRIGGER,
        actor=agent,
    )


def _render_ahead(
    macro: Macro, conversation: Conversation, agent: Any, inputs: dict[str, Any], reply: str | None
) -> dict[int, prerender.Prerendered]:
    """Every step's templates rendered over the conversation as it is before the macro's transaction opens, so no
    render holds the database's write lock (`workflows.engine.prerender`); a step whose inputs an earlier step
    changed renders again inside, which a macro (all of it or none) cannot avoid."""
    ctx = _macro_step_context(conversation, agent, inputs)
    ahead = {}
    for position, step in enumerate(macro.steps):
        if reply is not None and step["type"] == REPLY_STEP:  # replaced by the agent's reply
            continue
        made = prerender.prerender(step_types.require(step["type"]), step.get("config", {}), ctx)
        if made is not None:
            ahead[position] = made
    return ahead


def _apply_step(
    step: dict[str, Any],
    position: int,
    conversation: Conversation,
    agent: Any,
    inputs: dict[str, Any],
    rendered: prerender.Prerendered | None = None,
) -> None:
    """Execute one step as the agent (depth 0, like any change a person makes); a failure names the step.
    `rendered`: its templates rendered before the transaction, used while what they read is unchanged."""
    step_type = step_types.require(step["type"])
    ctx = _macro_step_context(conversation, agent, inputs)
    try:
        if rendered is not None and rendered.fits(ctx.data):
            rendered.apply(ctx)
        outcome = step_type.execute(step.get("config", {}), ctx)
    except ValidationError as exc:
        raise ValidationError({f"steps[{position}]": exc.messages}) from exc
    if outcome.status == "failed":
        raise ValidationError({f"steps[{position}]": outcome.error})


def macro_apply(
    *,
    macro: Macro,
    conversation: Conversation,
    agent: Any,
    inputs: Any = None,
    checked_inputs: dict[str, Any] | None = None,
    reply: str | None = None,
) -> Conversation:
    """Apply every step of an active macro to the conversation now, as `agent`; all of it or, on a failure, none.
    `inputs` are checked against the macro's (`checked_inputs`: already checked by the caller). With `reply` (the
    workspace's preview, edited by the agent) the macro's reply steps are replaced by that one agent reply."""
    if not macro.active:
        raise ValidationError({"macro": f'The macro "{macro.name}" is switched off.'})
    values = checked_inputs if checked_inputs is not None else clean_input_values(macro, inputs)
    current = Conversation.objects.select_related("contact", "assignee", "team")
    ahead = _render_ahead(macro, current.get(pk=conversation.pk), agent, values, reply)
    with transaction.atomic():
        for position, step in enumerate(macro.steps):
            if reply is not None and step["type"] == REPLY_STEP:
                continue
            conversation = current.get(pk=conversation.pk)
            _apply_step(step, position, conversation, agent, values, ahead.get(position))
        if reply is not None and reply.strip():
            conversation_services.message_create(
                conversation=conversation, body=reply, sender_type=SenderType.AGENT, author=agent
            )
    return conversation


def macro_preview(*, macro: Macro, conversation: Conversation, agent: Any, inputs: Any = None) -> dict[str, Any]:
    """What applying the macro would do, changing nothing: `reply` (its reply steps' text, rendered, for the agent
    to edit and send) and `changes` (the other steps in words)."""
    values = clean_input_values(macro, inputs)
    ctx = StepContext(
        data=macro_context(conversation, values),
        event=None,
        conversation=conversation,
        depth=0,
        trigger_type=MACRO_TRIGGER,
        actor=agent,
    )
    replies, changes = [], []
    for position, step in enumerate(macro.steps):
        step_type = step_types.require(step["type"])
        try:
            rendered = step_type.render(step.get("config", {}), ctx)
        except context.RenderError as exc:
            raise ValidationError({f"steps[{position}]": str(exc)}) from exc
        if step["type"] == REPLY_STEP:
            replies.append(rendered.get("text", ""))
        else:
            changes.append(step_sentence({"type": step["type"], "input": rendered}, step, dry_run=False))
    return {"reply": "\n\n".join(replies), "changes": changes}


def _outcome(macro: Macro, conversation_id: int, agent: Any, values: dict[str, Any]) -> dict[str, Any]:
    conversation = Conversation.objects.select_related("contact").filter(pk=conversation_id).first()
    if conversation is None:
        return {"conversation": conversation_id, "ok": False, "error": _("No such conversation.")}
    try:
        macro_apply(macro=macro, conversation=conversation, agent=agent, checked_inputs=values)
    except ValidationError as exc:
        return {"conversation": conversation_id, "ok": False, "error": " ".join(exc.messages)}
    return {"conversation": conversation_id, "ok": True, "error": None}


def macro_apply_bulk(
    *, macro: Macro, conversation_ids: list[int], agent: Any, inputs: Any = None
) -> list[dict[str, Any]]:
    """Apply the macro to each conversation in turn, each in its own transaction (one failing leaves the others
    applied); returns `[{"conversation", "ok", "error"}]` in the order given. Bad inputs refuse the whole call."""
    if not macro.active:
        raise ValidationError({"macro": f'The macro "{macro.name}" is switched off.'})
    ids = list(dict.fromkeys(conversation_ids))
    if not ids or len(ids) > MAX_BULK:
        raise ValidationError({"conversations": _("Give 1 to %(max)s conversation ids.") % {"max": MAX_BULK}})
    values = clean_input_values(macro, inputs)
    return [_outcome(macro, conversation_id, agent, values) for conversation_id in ids]

"""Validation of a whole workflow definition (docs/managers.md), shared by the API, admin forms, import and templates.

Errors come back keyed by where they are, e.g. `steps[2].config.all[0].value`, so a person knows which step and
which key to fix. Write-only step config keys (a webhook secret) are handled here as pure functions on definitions:
`mask_write_only` for every read, `keep_write_only` to carry saved values over an update that posts the mask back,
`prepare_steps` to fill in what a step type generates on save, `new_write_only_keys` for "shown once", and
`seal_write_only` / `open_write_only` to encrypt them at rest (the same keys as integration secrets) and back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from workflows.choices import OnFalse, WorkflowStatus
from workflows.engine import context, program, references
from workflows.integrations import crypto
from workflows.steps import step_types
from workflows.steps.registry import WRITE_ONLY_MASK, DefinitionInfo
from workflows.triggers import registry as triggers

MAX_STEPS = 50
MAX_ORDER = 2**31 - 1


class DefinitionError(Exception):
    """A definition is invalid; `errors` maps a key path to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items()))
        self.errors = errors


def _schema_errors(instance: Any, schema: dict[str, Any], key: str) -> list[tuple[str, str]]:
    validator = jsonschema.Draft202012Validator(schema)
    found = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path, message = f"{path}.{missing}", _("This key is required.")
        elif error.validator == "additionalProperties":
            message = _("Unknown key: %(detail)s") % {"detail": error.message.split("(")[-1].rstrip(")")}
        else:
            message = schema_message(error)
        found.append((f"{key}{path}", message))
    return found


# jsonschema words its messages in English; in another language the common checks are said again in that language.
SCHEMA_MESSAGES = {
    "enum": gettext_lazy("%(value)s is not one of %(limit)s."),
    "type": gettext_lazy("%(value)s is not of type %(limit)s."),
    "minimum": gettext_lazy("%(value)s is less than the minimum of %(limit)s."),
    "maximum": gettext_lazy("%(value)s is more than the maximum of %(limit)s."),
    "minLength": gettext_lazy("%(value)s is shorter than %(limit)s characters."),
    "maxLength": gettext_lazy("%(value)s is longer than %(limit)s characters."),
    "minItems": gettext_lazy("%(value)s has fewer than %(limit)s items."),
    "maxItems": gettext_lazy("%(value)s has more than %(limit)s items."),
    "pattern": gettext_lazy("%(value)s does not match %(limit)s."),
}


def schema_message(error: jsonschema.ValidationError) -> str:
    """A JSON Schema error in the active language: jsonschema's own English words, or ours for the common checks."""
    template = SCHEMA_MESSAGES.get(error.validator)
    if template is None or (get_language() or "en").startswith("en"):
        return str(error.message)
    limit = error.validator_value
    shown_limit = (
        ", ".join(json.dumps(item, ensure_ascii=False) for item in limit)
        if isinstance(limit, list)
        else json.dumps(limit, ensure_ascii=False)
    )
    return str(template) % {
        "value": json.dumps(error.instance, ensure_ascii=False, default=str)[:120],
        "limit": shown_limit,
    }


def _template_errors(value: Any, key: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        problem = context.template_error(value)
        return [(key, problem)] if problem else []
    if isinstance(value, list):
        return [e for index, item in enumerate(value) for e in _template_errors(item, f"{key}[{index}]")]
    if isinstance(value, dict):
        return [e for name, item in value.items() for e in _template_errors(item, f"{key}.{name}")]
    return []


def _validate_trigger(trigger: Any) -> list[tuple[str, str]]:
    if not isinstance(trigger, dict):
        return [("trigger", _('The trigger is an object: {"type": ..., "config": {...}}.'))]
    name = trigger.get("type")
    kind = triggers.trigger_type(name) if isinstance(name, str) else None
    if kind is None:
        return [
            (
                "trigger.type",
                f'Unknown trigger type "{trigger.get("type")}". Use one of: {", ".join(triggers.TRIGGER_TYPES)}.',
            )
        ]
    config = trigger.get("config", {})
    if not isinstance(config, dict):
        return [("trigger.config", _("The trigger config is an object."))]
    errors = _schema_errors(config, kind.schema, "trigger.config")
    return errors or [(f"trigger.config.{key}", message) for key, message in kind.validate(config)]


def _validate_order(data: dict[str, Any]) -> list[tuple[str, str]]:
    """`order` is a whole number (absent = after the existing workflows); `stop_processing` a boolean."""
    errors = []
    order = data.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int) or abs(order) > MAX_ORDER):
        errors.append(("order", _("A whole number between -%(max)s and %(max)s.") % {"max": MAX_ORDER}))
    if not isinstance(data.get("stop_processing", False), bool):
        errors.append(("stop_processing", "true or false."))
    return errors


def check_trigger_config(name: str, config: Any) -> list[tuple[str, str]] | None:
    """A trigger type's config checked as its schema and checks say (for steps that name an event type and a
    filter, e.g. `wait_for`): (key, message) errors; None when no trigger type has that name."""
    kind = triggers.trigger_type(name)
    if kind is None:
        return None
    if kind.targeted:
        return [("", f'"{name}" events are for one workflow and cannot be waited for.')]
    if not isinstance(config, dict):
        return [("", _("A filter is an object."))]
    errors = [(key.lstrip("."), message) for key, message in _schema_errors(config, kind.schema, "")]
    return errors or list(kind.validate(config))


def _validate_step(step: Any, index: int, trigger_type: str, key: str | None = None) -> list[tuple[str, str]]:
    key = key or f"steps[{index}]"
    if not isinstance(step, dict):
        return [(key, _('A step is an object: {"type": ..., "config": {...}}.'))]
    unknown = set(step) - {"type", "config", "on_false", "id", "position"}
    if unknown:
        return [(f"{key}.{sorted(unknown)[0]}", _("Unknown key."))]
    step_type = step_types.get(step.get("type", ""))
    if step_type is None:
        return [(f"{key}.type", f'Unknown step type "{step.get("type")}".')]
    on_false = step.get("on_false")
    if on_false not in (None, "", *OnFalse.values):
        return [(f"{key}.on_false", _("Use one of: %(choices)s.") % {"choices": ", ".join(OnFalse.values)})]
    config = step.get("config", {})
    if not isinstance(config, dict):
        return [(f"{key}.config", _("A step config is an object."))]
    errors = _schema_errors(config, step_type.schema, f"{key}.config")
    if errors:
        return errors
    # The mask posted back stands for the saved value (resolved when saving), so there is nothing to check in it.
    checked = {
        name: value for name, value in config.items() if not (name in step_type.write_only and value == WRITE_ONLY_MASK)
    }
    extra = step_type.validate(
        checked, DefinitionInfo(trigger_type=trigger_type, position=index, check_trigger_config=check_trigger_config)
    )
    extra += step_type.binding_errors(checked)
    errors = [(f"{key}.config.{name}" if name else f"{key}.config", message) for name, message in extra]
    return errors + [
        e
        for name in step_type.templated
        if name in config
        for e in _template_errors(config[name], f"{key}.config.{name}")
    ]


def validate_definition(
    data: Any, *, tolerated: frozenset[tuple[str, str]] = frozenset(), check_references: bool = True
) -> dict[str, Any]:
    """Check a whole definition and return it normalised; raise DefinitionError naming every bad step and key.

    References to other rows (teams, integrations...) must exist, except the `tolerated` ones (the references the
    saved version already made, see `references.tokens`) while the workflow is not active: a reference deleted since,
    or one a gallery template brings, is the workflow's problem to show, not a reason to refuse a draft's save or
    its deactivation. An active workflow has no missing reference."""
    if not isinstance(data, dict):
        raise DefinitionError({"non_field_errors": [_("A workflow definition is a JSON object.")]})
    errors: list[tuple[str, str]] = []
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(("name", _("A workflow needs a name.")))
    elif len(name) > 200:
        errors.append(("name", _("A name has at most 200 characters.")))
    if not isinstance(data.get("description", ""), str):
        errors.append(("description", _("The description is text.")))
    status = data.get("status", WorkflowStatus.DRAFT)
    if status not in WorkflowStatus.values:
        errors.append(("status", _("Use one of: %(choices)s.") % {"choices": ", ".join(WorkflowStatus.values)}))
    errors += _validate_order(data)
    errors += _validate_trigger(data.get("trigger"))
    steps = data.get("steps", [])
    if not isinstance(steps, list):
        errors.append(("steps", _("Steps are a list.")))
        steps = []
    elif len(steps) > MAX_STEPS:
        errors.append(("steps", _("A workflow has at most %(max)s steps.") % {"max": MAX_STEPS}))
    trigger_type = (data.get("trigger") or {}).get("type", "") if isinstance(data.get("trigger"), dict) else ""
    errors += _validate_tree(steps, trigger_type)
    if check_references:
        errors += _reference_errors(data, errors, tolerated if status != WorkflowStatus.ACTIVE else frozenset())
    if errors:
        grouped: dict[str, list[str]] = {}
        for key, message in errors:
            grouped.setdefault(key, []).append(message)
        raise DefinitionError(grouped)
    return normalize(data)


def _validate_tree(steps: list[Any], trigger_type: str) -> list[tuple[str, str]]:
    """Every step, those nested in branches too (an error on a nested step names its path, e.g. "step 2.1.0"),
    and branches nested deeper than allowed."""
    depth = program.depth_errors(steps)
    if depth:
        return depth
    errors = []
    every = program.keyed_steps(steps)
    for key, path, step in every:
        found = _validate_step(step, int(path.split(".")[0]), trigger_type, key)
        errors += (
            [(name, _("Step %(path)s: %(message)s") % {"path": path, "message": message}) for name, message in found]
            if "." in path
            else found
        )
    if len(every) > MAX_STEPS:
        errors.append(("steps", _("A workflow has at most %(max)s steps, nested ones included.") % {"max": MAX_STEPS}))
    return errors


def _reference_errors(
    data: dict[str, Any], errors: list[tuple[str, str]], tolerated: frozenset[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Missing references of the parts whose shape is valid (one query per kind), minus the tolerated ones."""
    invalid = {key.split(".")[0] for key, _ in errors}
    found = references.collect(data, skip=invalid)
    return [(ref.key, message) for ref, message in references.broken(found) if ref.token not in tolerated]


def validate_steps(steps: Any, *, trigger_type: str, key: str = "steps") -> list[dict[str, Any]]:
    """Check a list of steps on its own (a macro's) with the same rules as a workflow's; return them normalised."""
    if not isinstance(steps, list):
        raise DefinitionError({key: [_("Steps are a list.")]})
    if len(steps) > MAX_STEPS:
        raise DefinitionError({key: [_("At most %(max)s steps.") % {"max": MAX_STEPS}]})
    grouped: dict[str, list[str]] = {}
    for index, step in enumerate(steps):
        for path, message in _validate_step(step, index, trigger_type):
            grouped.setdefault(key + path[len("steps") :], []).append(message)
    if grouped:
        raise DefinitionError(grouped)
    normalized: list[dict[str, Any]] = normalize({"name": "-", "trigger": {"type": trigger_type}, "steps": steps})[
        "steps"
    ]
    return normalized


def normalize(data: dict[str, Any]) -> dict[str, Any]:
    """The canonical shape of a valid definition. Write-only keys are left as posted (the mask included): saving
    resolves them with `keep_write_only` and `prepare_steps`, which need the previous version."""
    return {
        "name": data["name"].strip(),
        "description": data.get("description", ""),
        "status": data.get("status", WorkflowStatus.DRAFT),
        "order": data.get("order"),
        "stop_processing": data.get("stop_processing", False),
        "trigger": {"type": data["trigger"]["type"], "config": data["trigger"].get("config", {})},
        "steps": program.map_steps([_normal_step(step) for step in data.get("steps", [])], _normal_step),
    }


def _normal_step(step: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": step["type"],
        "config": step.get("config", {}),
        **({"on_false": step["on_false"]} if step.get("on_false") else {}),
    }


# Write-only config keys -------------------------------------------------------------------------------------


def _write_only(step: dict[str, Any]) -> tuple[str, ...]:
    step_type = step_types.get(step.get("type", ""))
    return step_type.write_only if step_type is not None else ()


def mask_write_only(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition as every read shows it: write-only values replaced by WRITE_ONLY_MASK."""
    return {
        **definition,
        "steps": program.map_steps(
            definition.get("steps", []),
            lambda step: (
                {**step, "config": step_types.require(step["type"]).mask_write_only(step.get("config", {}))}
                if _write_only(step)
                else step
            ),
        ),
    }


def _wants_previous(step: dict[str, Any]) -> bool:
    """A step whose write-only key was posted as the mask or left out keeps the value saved before."""
    config = step.get("config", {})
    return any(config.get(key, WRITE_ONLY_MASK) == WRITE_ONLY_MASK for key in _write_only(step))


def _public_config(step: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in step.get("config", {}).items() if key not in _write_only(step)}


def _same_step(
    step: dict[str, Any],
    position: int,
    previous: dict[str, Any],
    previous_position: int,
    *,
    same_place: bool,
    same_config: bool,
) -> bool:
    return (
        step.get("type") == previous.get("type")
        and (not same_place or position == previous_position)
        and (not same_config or _public_config(step) == _public_config(previous))
    )


def _match_previous(steps: list[dict[str, Any]], previous: list[dict[str, Any]]) -> dict[int, int]:
    """Which previous step each step that wants its saved values is, one to one. In order of confidence: same place
    and same other config; same other config elsewhere (the steps were reordered); same place and type (edited)."""
    wanting = [index for index, step in enumerate(steps) if _wants_previous(step)]
    free = list(range(len(previous)))
    matches: dict[int, int] = {}
    for same_place, same_config in ((True, True), (False, True), (True, False)):
        for index in wanting:
            if index in matches:
                continue
            found = next(
                (
                    old
                    for old in free
                    if _same_step(
                        steps[index], index, previous[old], old, same_place=same_place, same_config=same_config
                    )
                ),
                None,
            )
            if found is not None:
                matches[index] = found
                free.remove(found)
    return matches


def keep_write_only(steps: list[dict[str, Any]], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps with every write-only key posted as the mask (or left out) set to the value of the same step in the
    previous version. A key with no matching previous step (or no saved value) is dropped, so `prepare_steps`
    generates a new one. Pure: no database, the inputs are not changed."""
    matches = _match_previous(steps, previous)
    kept = []
    for index, step in enumerate(steps):
        config = dict(step.get("config", {}))
        before = previous[matches[index]].get("config", {}) if index in matches else {}
        for key in _write_only(step):
            if config.get(key, WRITE_ONLY_MASK) != WRITE_ONLY_MASK:
                continue
            if before.get(key) not in (None, "", WRITE_ONLY_MASK):
                config[key] = before[key]
            else:
                config.pop(key, None)
        kept.append({**step, "config": config})
    return kept


def prepare_steps(definition: dict[str, Any], previous: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The definition as it is saved: write-only values kept from `previous` steps, then what step types generate
    on save filled in (a webhook secret left empty, or posted as the mask with nothing to keep)."""
    steps = _keep_nested(definition.get("steps", []), previous or [])
    return {
        **definition,
        "steps": program.map_steps(
            steps, lambda step: {**step, "config": step_types.require(step["type"]).prepare(step["config"])}
        ),
    }


def _keep_nested(steps: list[dict[str, Any]], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`keep_write_only` over every step, those nested in branches too: both trees are matched in reading order."""
    flat = [step for _, _, step in program.keyed_steps(steps)]
    kept = iter(keep_write_only(flat, [step for _, _, step in program.keyed_steps(previous)]))
    return program.map_steps(steps, lambda step: {**step, "config": next(kept)["config"]})


def new_write_only_keys(definition: dict[str, Any], previous: dict[str, Any] | None) -> list[tuple[int, str]]:
    """(position, key) of the write-only values this definition sets that the previous version did not hold (a
    generated or changed secret): the values a save's response shows once."""
    held = {
        (key, step.get("config", {}).get(key))
        for step in (previous or {}).get("steps", [])
        for key in _write_only(step)
    }
    return [
        (position, key)
        for position, step in enumerate(definition.get("steps", []))
        for key in _write_only(step)
        if step.get("config", {}).get(key) not in (None, "") and (key, step["config"][key]) not in held
    ]


def _map_write_only(definition: dict[str, Any], function: Callable[[str], str]) -> dict[str, Any]:
    """The definition with `function` applied to every write-only value that holds a secret."""

    def mapped(step: dict[str, Any]) -> dict[str, Any]:
        config = step.get("config", {})
        changed = {
            key: function(config[key])
            for key in _write_only(step)
            if isinstance(config.get(key), str) and config[key] not in ("", WRITE_ONLY_MASK)
        }
        return {**step, "config": {**config, **changed}} if changed else step

    return {**definition, "steps": program.map_steps(definition.get("steps", []), mapped)}


def seal_write_only(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition as it is stored: every write-only value encrypted (values already sealed stay as they are)."""
    return _map_write_only(
        definition, lambda value: value if value.startswith(crypto.SEALED_PREFIX) else crypto.seal_text(value)
    )


def open_write_only(definition: dict[str, Any]) -> dict[str, Any]:
    """A stored definition with its write-only values decrypted (for saving logic and the one-time reveal)."""
    return _map_write_only(definition, crypto.open_text)


def rotate_write_only(definition: dict[str, Any]) -> dict[str, Any]:
    """A stored definition with its sealed values re-encrypted under the newest key."""
    return _map_write_only(definition, crypto.rotate_sealed)

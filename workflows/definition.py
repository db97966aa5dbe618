"""Validation of a whole workflow definition (SPEC §4), shared by the API, admin forms, import and templates.

Errors come back keyed by where they are, e.g. `steps[2].config.all[0].value`, so a person knows which step and
which key to fix.
"""
from __future__ import annotations

from typing import Any

import jsonschema

from workflows import context, triggers
from workflows.choices import OnFalse, WorkflowStatus
from workflows.steps import step_types
from workflows.steps.registry import DefinitionInfo

MAX_STEPS = 50


class DefinitionError(Exception):
    """A definition is invalid; `errors` maps a key path to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items()))
        self.errors = errors


def _schema_errors(instance: Any, schema: dict, key: str) -> list[tuple[str, str]]:
    validator = jsonschema.Draft202012Validator(schema)
    found = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path, message = f"{path}.{missing}", "This key is required."
        elif error.validator == "additionalProperties":
            message = f"Unknown key: {error.message.split('(')[-1].rstrip(')')}"
        else:
            message = error.message
        found.append((f"{key}{path}", message))
    return found


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
        return [("trigger", 'The trigger is an object: {"type": ..., "config": {...}}.')]
    kind = triggers.trigger_type(trigger.get("type"))
    if kind is None:
        return [("trigger.type", f'Unknown trigger type "{trigger.get("type")}". '
                                 f'Use one of: {", ".join(triggers.TRIGGER_TYPES)}.')]
    config = trigger.get("config", {})
    if not isinstance(config, dict):
        return [("trigger.config", "The trigger config is an object.")]
    errors = _schema_errors(config, kind.schema, "trigger.config")
    return errors or [(f"trigger.config.{key}", message) for key, message in kind.validate(config)]


def _validate_step(step: Any, index: int, trigger_type: str) -> list[tuple[str, str]]:
    key = f"steps[{index}]"
    if not isinstance(step, dict):
        return [(key, 'A step is an object: {"type": ..., "config": {...}}.')]
    unknown = set(step) - {"type", "config", "on_false", "id", "position"}
    if unknown:
        return [(f"{key}.{sorted(unknown)[0]}", "Unknown key.")]
    step_type = step_types.get(step.get("type"))
    if step_type is None:
        return [(f"{key}.type", f'Unknown step type "{step.get("type")}".')]
    on_false = step.get("on_false")
    if on_false not in (None, "", *OnFalse.values):
        return [(f"{key}.on_false", f"Use one of: {', '.join(OnFalse.values)}.")]
    config = step.get("config", {})
    if not isinstance(config, dict):
        return [(f"{key}.config", "A step config is an object.")]
    errors = _schema_errors(config, step_type.schema, f"{key}.config")
    if errors:
        return errors
    extra = step_type.validate(config, DefinitionInfo(trigger_type=trigger_type, position=index))
    errors = [(f"{key}.config.{name}" if name else f"{key}.config", message) for name, message in extra]
    return errors + [e for name in step_type.templated if name in config
                     for e in _template_errors(config[name], f"{key}.config.{name}")]


def validate_definition(data: Any) -> dict[str, Any]:
    """Check a whole definition and return it normalised; raise DefinitionError naming every bad step and key."""
    if not isinstance(data, dict):
        raise DefinitionError({"non_field_errors": ["A workflow definition is a JSON object."]})
    errors: list[tuple[str, str]] = []
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(("name", "A workflow needs a name."))
    elif len(name) > 200:
        errors.append(("name", "A name has at most 200 characters."))
    if not isinstance(data.get("description", ""), str):
        errors.append(("description", "The description is text."))
    status = data.get("status", WorkflowStatus.DRAFT)
    if status not in WorkflowStatus.values:
        errors.append(("status", f"Use one of: {', '.join(WorkflowStatus.values)}."))
    errors += _validate_trigger(data.get("trigger"))
    steps = data.get("steps", [])
    if not isinstance(steps, list):
        errors.append(("steps", "Steps are a list."))
        steps = []
    elif len(steps) > MAX_STEPS:
        errors.append(("steps", f"A workflow has at most {MAX_STEPS} steps."))
    trigger_type = (data.get("trigger") or {}).get("type", "") if isinstance(data.get("trigger"), dict) else ""
    for index, step in enumerate(steps):
        errors += _validate_step(step, index, trigger_type)
    if errors:
        grouped: dict[str, list[str]] = {}
        for key, message in errors:
            grouped.setdefault(key, []).append(message)
        raise DefinitionError(grouped)
    return normalize(data)


def normalize(data: dict) -> dict[str, Any]:
    """The canonical shape of a valid definition (what export writes and versions keep)."""
    return {
        "name": data["name"].strip(),
        "description": data.get("description", ""),
        "status": data.get("status", WorkflowStatus.DRAFT),
        "trigger": {"type": data["trigger"]["type"], "config": data["trigger"].get("config", {})},
        "steps": [
            {"type": step["type"], "config": step_types.get(step["type"]).prepare(step.get("config", {})),
             **({"on_false": step["on_false"]} if step.get("on_false") else {})}
            for step in data.get("steps", [])
        ],
    }

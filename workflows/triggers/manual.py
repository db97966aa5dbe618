"""The `manual` trigger (docs/reference/triggers.md: a person in admin or an API call runs a workflow on a
conversation), and the discovery of the workflows an AI agent may call ("AI decision", docs/reference/triggers.md
`manual`): each active manual workflow with its name, description and a JSON Schema of the inputs it reads, in a shape
LLM tool-calling accepts.

The inputs are derived from the definition itself, so the list never drifts from what the workflow does: every
`event.inputs.X` placeholder in a template and every condition field on `event.inputs.X` becomes a property (typed
by the condition's operator and value where there is one), merged with the optional JSON Schema the manual trigger
declares in its config under `inputs` (declared properties and `required` win). Inputs reach a run under
`event.inputs` (the manual event keeps them apart from its own keys, so a caller cannot overwrite `workflow_id`
or point `message_id` at another conversation's message); `event.payload.inputs.X` and `event.properties.inputs.X`
are the same values and are recognised too.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from conversations.choices import EventType
from workflows.choices import WorkflowStatus
from workflows.models import Workflow
from workflows.triggers.registry import TriggerType, schema, trigger_types

INPUT_REFERENCE = re.compile(r"\bevent\.(?:payload\.|properties\.)?inputs\.([A-Za-z_][A-Za-z0-9_]*)")
NUMERIC_OPS = {"gt", "gte", "lt", "lte"}


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _leaf_property(leaf: dict[str, Any]) -> dict[str, Any]:
    """What a condition leaf on an input tells about its type: numbers for comparisons, the value's type for eq."""
    op, value = leaf.get("op"), leaf.get("value")
    if op in NUMERIC_OPS:
        return {"type": "number"}
    if op in ("in", "not_in") and isinstance(value, list) and value:
        kinds = {_json_type(item) for item in value}
        return {"type": kinds.pop()} if len(kinds) == 1 and None not in kinds else {}
    kind = _json_type(value) if op in ("eq", "neq") else None
    return {"type": kind} if kind else {"type": "string"} if op in ("contains", "starts_with", "matches") else {}


def _scan(value: Any, found: dict[str, dict[str, Any]]) -> None:
    """Collect input names from every string (templates, condition fields) and types from condition leaves."""
    if isinstance(value, str):
        for name in INPUT_REFERENCE.findall(value):
            found.setdefault(name, {})
    elif isinstance(value, list):
        for item in value:
            _scan(item, found)
    elif isinstance(value, dict):
        field = value.get("field")
        if isinstance(field, str) and "op" in value and (match := INPUT_REFERENCE.fullmatch(field)):
            found[match.group(1)] = {**_leaf_property(value), **found.get(match.group(1), {})}
        for item in value.values():
            _scan(item, found)


def input_schema(definition: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of the inputs a workflow reads (derived properties plus the trigger's declared schema)."""
    derived: dict[str, dict[str, Any]] = {}
    _scan(definition.get("steps") or [], derived)
    declared = (definition.get("trigger") or {}).get("config", {}).get("inputs") or {}
    properties_declared = declared.get("properties")
    declared_properties: dict[str, Any] = properties_declared if isinstance(properties_declared, dict) else {}
    properties = {name: spec or {"type": "string"} for name, spec in derived.items()}
    for name, spec in properties.items():
        spec.setdefault("description", f"Read by the workflow as event.inputs.{name}.")
    properties.update(declared_properties)
    schema: dict[str, Any] = {"type": "object", "properties": dict(sorted(properties.items()))}
    required = declared.get("required")
    if isinstance(required, list) and required:
        schema["required"] = [name for name in required if isinstance(name, str)]
    return schema


def tool_name(workflow: Workflow) -> str:
    """A function name an LLM API accepts (letters, digits, underscores, at most 64 characters), unique by id."""
    slug = slugify(workflow.name).replace("-", "_") or "workflow"
    return f"workflow_{workflow.pk}_{slug}"[:64]


def describe_callable(workflow: Workflow) -> dict[str, Any]:
    """One callable workflow: what it is, how to call it, and its inputs as an LLM tool definition."""
    # The rows as stored (the steps prefetched): sealed write-only values never hold an `event.inputs` reference.
    definition = {
        "trigger": {"type": workflow.trigger_type, "config": workflow.trigger_config},
        "steps": [{"type": step.type, "config": step.config} for step in workflow.steps.all()],
    }
    inputs = input_schema(definition)
    parameters = {
        "type": "object",
        "properties": {
            "conversation": {"type": "integer", "description": gettext_noop("The id of the conversation to run on.")},
            "inputs": inputs,
        },
        "required": ["conversation", *(["inputs"] if inputs.get("required") else [])],
    }
    return {
        "id": workflow.pk,
        "name": workflow.name,
        "description": workflow.description,
        "version": workflow.version,
        "run_url": f"/api/workflows/{workflow.pk}/run/",
        "input_schema": inputs,
        "tool": {
            "type": "function",
            "function": {
                "name": tool_name(workflow),
                "description": workflow.description or workflow.name,
                "parameters": parameters,
            },
        },
    }


def callable_workflows() -> list[dict[str, Any]]:
    """Every active `manual` workflow, described for an agent that decides which one to run (two queries)."""
    workflows = (
        Workflow.objects.filter(trigger_type=EventType.MANUAL, status=WorkflowStatus.ACTIVE)
        .prefetch_related("steps")
        .order_by("name", "id")
    )
    return [describe_callable(workflow) for workflow in workflows]


trigger_types.register(
    TriggerType(EventType.MANUAL, _("Manual / AI decision"), schema({"inputs": {"type": "object"}}), targeted=True),
)

"""Read side of a workflow's saved versions: the list, each version as readable lines, and a diff between a version
and the current definition, for the admin's versions page (restoring one is `services.workflow_restore_version`).

A definition is shown as labelled lines ("Step 2: Add tag", "  Tags: refund, vip"), keys and codes in words, not as JSON, so a manager can
see what changed; write-only values (webhook secrets) are masked on both sides, so they never show or differ.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from conversations.choices import CONDITION_OPERATOR_LABELS
from conversations.wording import VALUE_LABELS
from workflows import services
from workflows.choices import OnFalse, WorkflowStatus
from workflows.engine.definition import mask_write_only, open_write_only
from workflows.labels import key_label
from workflows.models import Workflow, WorkflowVersion
from workflows.steps import step_types
from workflows.steps.wording import field_words
from workflows.triggers import registry as triggers

INDENT = "  "


@dataclass(frozen=True)
class DiffLine:
    """One line of a diff: `kind` is "same", "added" (only in the current definition) or "removed" (only in the
    version)."""

    kind: str
    text: str


def versions_of(workflow: Workflow) -> QuerySet[WorkflowVersion]:
    """The workflow's saved versions, newest first."""
    return WorkflowVersion.objects.filter(workflow=workflow).order_by("-version")


def version_definition(version: WorkflowVersion) -> dict[str, Any]:
    """The definition saved at a version, masked as every read is."""
    return mask_write_only(open_write_only(version.definition))


def _value_text(value: Any) -> str:
    """A value in words: known codes by their labels (`least_busy` -> "Least busy"), free text as written."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list) and all(not isinstance(item, (dict, list)) for item in value):
        return ", ".join(_value_text(item) for item in value) or _("(none)")
    return _("(empty)") if value in ("", None) else str(VALUE_LABELS.get(str(value), str(value)))


def _key_text(key: str) -> str:
    """A config key in words: `sender_types` -> "Sender types"."""
    return str(key_label(key))


def _is_check(value: Any) -> bool:
    """A condition leaf (`{"field", "op", "value"}`), shown as one line."""
    return isinstance(value, dict) and "field" in value and "op" in value


def _check_text(check: dict[str, Any]) -> str:
    value = "" if "value" not in check else f" {_value_text(check['value'])}"
    op = CONDITION_OPERATOR_LABELS.get(check["op"], check["op"])
    return f"{field_words(str(check['field'])).capitalize()} {op}{value}"


def _item_lines(item: Any, depth: int) -> list[str]:
    """One entry of a list: a condition on one line, a group or record as its entries under a dash."""
    pad = INDENT * depth
    if _is_check(item):
        return [f"{pad}- {_check_text(item)}"]
    if isinstance(item, dict):
        nested = _config_lines(item, depth + 1)
        return [f"{pad}- {nested[0].strip()}"] + nested[1:] if nested else [f"{pad}- " + _("(empty)")]
    return [f"{pad}- {_value_text(item)}"]


def _value_lines(key: str, value: Any, depth: int) -> list[str]:
    """`key: value`, or the key and its nested entries one level deeper (`all`/`any` read "all of"/"any of")."""
    pad = INDENT * depth
    label = {"all": _("All of"), "any": _("Any of")}.get(key) or _key_text(key)
    if _is_check(value):
        return [f"{pad}{label}: {_check_text(value)}"]
    if isinstance(value, dict):
        return [f"{pad}{label}:"] + _config_lines(value, depth + 1)
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return [f"{pad}{label}:"] + [line for item in value for line in _item_lines(item, depth + 1)]
    return [f"{pad}{label}: {_value_text(value)}"]


def _config_lines(config: dict[str, Any], depth: int) -> list[str]:
    return [line for key, value in config.items() for line in _value_lines(str(key), value, depth)]


def _step_lines(position: int, step: dict[str, Any]) -> list[str]:
    kind = step_types.get(step["type"])
    head = _("Step %(position)s: %(label)s") % {"position": position, "label": kind.label if kind else step["type"]}
    if step.get("on_false"):
        head += " " + _("(if false: %(choice)s)") % {"choice": str(OnFalse(step["on_false"]).label).lower()}
    return [head] + _config_lines(step.get("config") or {}, 1)


def order_lines(definition: dict[str, Any]) -> list[str]:
    """Where the workflow runs among the others and whether it stops the ones after it (a restore brings both
    back, so the compare shows both). A version saved before they existed shows "(not recorded)"."""
    order, stop = definition.get("order"), definition.get("stop_processing")
    unknown = _("(not recorded)")
    return [
        _("Order: %(order)s") % {"order": unknown if order is None else order},
        _("Stop processing the workflows after it: %(stop)s")
        % {"stop": unknown if stop is None else _value_text(stop)},
    ]


def readable_lines(definition: dict[str, Any]) -> list[str]:
    """A definition as labelled lines: basics, the trigger and its filter, then each step and its settings."""
    trigger = definition.get("trigger") or {}
    kind = triggers.trigger_type(trigger.get("type", ""))
    status = definition.get("status", "")
    lines = [
        _("Name: %(name)s") % {"name": definition.get("name", "")},
        _("Description: %(description)s") % {"description": _value_text(definition.get("description"))},
        _("Status: %(status)s")
        % {"status": WorkflowStatus(status).label if status in WorkflowStatus.values else status},
        *order_lines(definition),
        _("Trigger: %(trigger)s") % {"trigger": kind.label if kind else trigger.get("type", "")},
    ]
    lines += _config_lines(trigger.get("config") or {}, 1)
    for position, step in enumerate(definition.get("steps") or [], start=1):
        lines += _step_lines(position, step)
    return lines


def diff_with_current(version: WorkflowVersion) -> list[DiffLine]:
    """Every line of the version and of the current definition, marked as kept, removed or added."""
    old = readable_lines(version_definition(version))
    new = readable_lines(services.workflow_definition(version.workflow))
    kinds = {" ": "same", "-": "removed", "+": "added"}
    return [DiffLine(kinds[line[0]], line[2:]) for line in difflib.ndiff(old, new) if line[0] in kinds]

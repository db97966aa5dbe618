"""Which active workflows use a conversation field key (docs/managers.md), so a definition they rely on is not retyped
or deleted under them. Registered with `conversations.services.register_field_usage` when the app is ready.

A workflow uses the key `order_id` when its trigger is `conversation.fields_changed` with `order_id` in `keys`,
when a `set_field` step writes it on the conversation, when a `wait_for` waits on `conversation.fields_changed`
filtered by it, or when any condition path or template names `conversation.fields.order_id`. Definitions are
walked as JSON, so steps nested in other steps' configs (branches) count too.
"""

from __future__ import annotations

import re
from typing import Any

from conversations.choices import EventType
from workflows.choices import WorkflowStatus
from workflows.models import Workflow

SET_FIELD = "set_field"


def _names_key(value: Any, key: str, path: re.Pattern[str]) -> bool:
    """True when anything inside `value` (a definition, or a part of one) uses the field `key`."""
    if isinstance(value, str):
        return bool(path.search(value))
    if isinstance(value, list):
        return any(_names_key(item, key, path) for item in value)
    if not isinstance(value, dict):
        return False
    raw_config = value.get("config")
    config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
    if (
        value.get("type") == SET_FIELD
        and config.get("target", "conversation") == "conversation"
        and config.get("key") == key
    ):
        return True
    raw_filter = value.get("filter")
    awaited: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
    if value.get("event") == EventType.FIELDS_CHANGED and key in (awaited.get("keys") or []):
        return True
    return any(_names_key(item, key, path) for item in value.values())


def _uses(workflow: Workflow, key: str, path: re.Pattern[str]) -> bool:
    config = workflow.trigger_config or {}
    if workflow.trigger_type == EventType.FIELDS_CHANGED and key in (config.get("keys") or []):
        return True
    steps = [{"type": step.type, "config": step.config} for step in workflow.steps.all()]
    return _names_key(config, key, path) or _names_key(steps, key, path)


def workflows_using_field(key: str) -> list[str]:
    """The active workflows that use the conversation field `key`, in words (`workflow "Refunds"`)."""
    path = re.compile(rf"conversation\.fields\.{re.escape(key)}(?![A-Za-z0-9_])")
    active = Workflow.objects.filter(status=WorkflowStatus.ACTIVE).prefetch_related("steps").order_by("name", "id")
    return [f'workflow "{workflow.name}"' for workflow in active if _uses(workflow, key, path)]

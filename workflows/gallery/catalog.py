"""The templates gallery: ready workflows (workflow definitions) kept as JSON files in `workflows/gallery/`, grouped by
category, and the service that turns one into a draft workflow.

A template is data, not code: one file per template whose name is its slug, holding a workflow definition plus its
`category`. Every template goes through the same validator as any other definition when it is used, and a test
validates them all, so a gallery entry can never create a workflow the editor would refuse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext

from conversations.choices import CONDITION_OPERATOR_LABELS
from conversations.wording import label
from workflows import services
from workflows.choices import WorkflowStatus
from workflows.engine import references
from workflows.labels import key_words
from workflows.models import Workflow
from workflows.steps import step_types, wording
from workflows.triggers import registry as triggers

GALLERY_DIR = Path(__file__).resolve().parent
CATEGORIES = ("Customer Service", "Sales", "Operations")


class TemplateNotFound(ObjectDoesNotExist):
    """No template has this slug."""


@dataclass(frozen=True)
class WorkflowTemplate:
    """One gallery entry: its slug (the file name), category and the workflow definition it creates."""

    slug: str
    category: str
    definition: dict[str, Any] = field(hash=False)

    @property
    def name(self) -> str:
        return self.definition["name"]

    @property
    def description(self) -> str:
        return self.definition.get("description", "")

    @property
    def trigger_type(self) -> str:
        return self.definition["trigger"]["type"]

    @property
    def trigger_label(self) -> str:
        kind = triggers.trigger_type(self.trigger_type)
        return kind.label if kind else self.trigger_type

    def step_preview(self) -> list[str]:
        """One short line per step ("Route: team Retention, least_busy") for the gallery card."""
        return [step_summary(step) for step in self.definition["steps"]]


def step_summary(step: dict[str, Any]) -> str:
    """A step as a one-line text: its type's label and its first few plain config values."""
    step_type = step_types.get(step["type"])
    label = step_type.label if step_type else step["type"]
    config = step.get("config", {})
    if step["type"] == "condition":
        leaves = [leaf for group in ("all", "any") for leaf in config.get(group, []) if "field" in leaf]
        details = [
            f"{wording.field_words(leaf['field'])} {CONDITION_OPERATOR_LABELS.get(leaf['op'], leaf['op'])} "
            f"{_short(leaf.get('value', ''))}".strip()
            for leaf in leaves
        ]
    else:
        details = [f"{key_words(key)} {_short(value)}" for key, value in config.items() if _is_plain(value)]
    text = ", ".join(details[:3])
    return f"{label}: {text}" if text else label


def _is_plain(value: Any) -> bool:
    """Text, a number or a list of those: what reads well in a one-line summary (headers and bodies do not)."""
    if isinstance(value, list):
        return all(isinstance(item, (str, int, float)) for item in value)
    return isinstance(value, (str, int, float))


def _short(value: Any, limit: int = 40) -> str:
    text = "" if value in ("", None) else label(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _load(path: Path) -> WorkflowTemplate:
    data = json.loads(path.read_text(encoding="utf-8"))
    category = data.pop("category")
    return WorkflowTemplate(slug=path.stem, category=category, definition={**data, "status": WorkflowStatus.DRAFT})


@lru_cache(maxsize=1)
def all_templates() -> tuple[WorkflowTemplate, ...]:
    """Every template, ordered by category (in CATEGORIES order) then name; read once per process."""
    found = [_load(path) for path in sorted(GALLERY_DIR.glob("*.json"))]
    order = {name: index for index, name in enumerate(CATEGORIES)}
    return tuple(sorted(found, key=lambda t: (order.get(t.category, len(order)), t.name)))


def templates_by_category() -> list[tuple[str, list[WorkflowTemplate]]]:
    """The gallery as (category, templates) pairs, categories in their fixed order."""
    grouped: dict[str, list[WorkflowTemplate]] = {}
    for template in all_templates():
        grouped.setdefault(template.category, []).append(template)
    return list(grouped.items())


def get_template(slug: str) -> WorkflowTemplate:
    """The template called `slug`; TemplateNotFound otherwise."""
    for template in all_templates():
        if template.slug == slug:
            return template
    raise TemplateNotFound(gettext('No workflow template "%(slug)s".') % {"slug": slug})


def template_use(*, slug: str, created_by=None) -> Workflow:
    """Create a draft workflow from a template (validated like any definition); the manager edits and activates it."""
    template = get_template(slug)
    # A template may name an integration this install does not have yet: the draft is created with that problem
    # shown, and activating it is refused until the integration exists.
    return services.workflow_create(
        definition={**template.definition, "status": WorkflowStatus.DRAFT},
        tolerated=references.tokens(template.definition),
        created_by=created_by,
    )

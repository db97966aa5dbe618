"""A workflow's steps and checks in words, for the dry run and the run history: "Would add tag refund", "Conversation
status is one of Open, Pending (saw New) ✘", instead of `{"would": "Add tag"}` and raw operator codes. The JSON stays
on the page behind a toggle for power users.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import get_language
from typing import Any

from conversations.choices import CONDITION_OPERATOR_LABELS
from conversations.wording import excerpt, label
from workflows.labels import key_label
from workflows.steps import step_types

SKIPPED_KEYS = frozenset({"would", "input", "checks", "result", "headers", "values", "secret", "error"})
MAX_FACTS = 6


def field_words(field: str) -> str:
    """`contact.attributes.vip` -> "contact attribute vip"; `event.occurred_at` -> "event occurred at"."""
    return field.replace("attributes.", "attribute ").replace(".", " ").replace("_", " ")


def check_sentence(check: dict[str, Any]) -> str:
    """One condition check as a sentence with what it saw."""
    op = CONDITION_OPERATOR_LABELS.get(check.get("op", ""), check.get("op", ""))
    value = check.get("value")
    shown = "" if value in (None, "") and "business hours" not in op else f" {label(value)}"
    if "business hours" in op and value in (None, ""):
        shown = " " + _("the default calendar")
    saw = check.get("actual")
    return f"{field_words(check.get('field', '')).capitalize()} {op}{shown} " + _("(saw %(value)s)") % {"value": label(saw)}


def _plain(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(item, (str, int, float, bool)) for item in value)
    return isinstance(value, (str, int, float, bool))


def facts(*parts: Any) -> list[tuple[str, str]]:
    """The plain values of a step's input and output as (label, words) rows, nested objects left to the JSON."""
    rows: dict[str, str] = {}
    for part in parts:
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key not in SKIPPED_KEYS and _plain(value) and value not in ("", []):
                rows.setdefault(str(key_label(key)), excerpt(label(value), 120))
    return list(rows.items())[:MAX_FACTS]


def step_sentence(step: dict[str, Any], defined: dict[str, Any], *, dry_run: bool) -> str:
    """What the step does (or would do) in one line: its label and its main configured value."""
    kind = step_types.get(step["type"])
    action = str(kind.label) if kind else label(step["type"])
    if (get_language() or "en").startswith("en"):  # English sentences run on ("Would add tag"); others keep the label
        action = action.lower()
    raw_config, raw_input = defined.get("config"), step.get("input")
    config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
    rendered: dict[str, Any] = raw_input if isinstance(raw_input, dict) and raw_input else config
    main = next((value for value in rendered.values() if _plain(value) and value not in ("", [])), None)
    detail = f" {excerpt(label(main), 80)}" if main is not None and step["type"] != "condition" else ""
    text = _("Would %(action)s") % {"action": f"{action}{detail}"} if dry_run else f"{action}{detail}"
    return text[0].upper() + text[1:]

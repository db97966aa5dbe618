"""A workflow's steps and checks in words, for the dry run and the run history: "Would add tag refund", "Conversation
status is one of Open, Pending (saw New) ✘", instead of `{"would": "Add tag"}` and raw operator codes. The JSON stays
on the page behind a toggle for power users.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from conversations.choices import CONDITION_OPERATOR_LABELS
from conversations.wording import VALUE_LABELS, excerpt, label
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
    return f"{field_words(check.get('field', '')).capitalize()} {op}{shown} " + _("(saw %(value)s)") % {
        "value": label(saw)
    }


def _plain(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(item, (str, int, float, bool)) for item in value)
    return isinstance(value, (str, int, float, bool))


REASON_KEY = re.compile(r"^([a-z][a-z0-9_]*): ")
QUOTED_CODES = re.compile(r'\[("[a-z_]+"(?:, "[a-z_]+")*)\]|"([a-z_]+)"')


def _codes_in_words(match: re.Match[str]) -> str:
    codes = re.findall(r'"([a-z_]+)"', match.group(1)) if match.group(1) else [match.group(2)]
    return ", ".join(label(code) for code in codes) if all(code in VALUE_LABELS for code in codes) else match.group(0)


def reason_words(reason: str | None) -> str | None:
    """An explanation's reason as a person reads it: the filter's config key in words and known codes as labels
    (`sender_types: "agent" is not one of ["customer"]` -> "Sender types: Agent is not one of Customer"); free text
    stays quoted. The API keeps the reason as the engine wrote it."""
    if not reason:
        return reason
    key = REASON_KEY.match(reason)
    if key:
        reason = f"{key_label(key.group(1))}: {reason[key.end() :]}"
    return QUOTED_CODES.sub(_codes_in_words, reason)


def facts(*parts: Any) -> list[tuple[str, str]]:
    """The plain values of a step's input and output as (label, words) rows, nested objects left to the JSON."""
    rows: dict[str, str] = {}
    for part in parts:
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key.endswith("_id") and part.get(key[:-3]) not in (None, ""):
                continue  # `team_id` beside `team`: the name says it, the id is in the JSON
            if key not in SKIPPED_KEYS and _plain(value) and value not in ("", []):
                name = str(key_label(key))
                if name in rows and isinstance(value, str) and rows[name].isdigit():
                    del rows[name]  # the input gave a row by id (`"team": 3`), the result names it: keep the name
                rows.setdefault(name, excerpt(label(value), 120))
    return list(rows.items())[:MAX_FACTS]


def step_sentence(step: dict[str, Any], defined: dict[str, Any], *, dry_run: bool) -> str:
    """What the step does (or would do) in one line: its label and its main configured value."""
    kind = step_types.get(step["type"])
    action = str(kind.label) if kind else label(step["type"])
    if (get_language() or "en").startswith("en"):  # English sentences run on ("Would add tag"); others keep the label
        action = action.lower()
    raw_config, raw_input, raw_output = defined.get("config"), step.get("input"), step.get("output")
    config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
    rendered: dict[str, Any] = raw_input if isinstance(raw_input, dict) and raw_input else config
    key, main = next(
        ((key, value) for key, value in rendered.items() if _plain(value) and value not in ("", [])), (None, None)
    )
    named = raw_output.get(key) if isinstance(raw_output, dict) else None
    if isinstance(main, int) and not isinstance(main, bool) and isinstance(named, str) and named:
        main = named  # a row given by id (`"team": 3`) that the step's result names ("Billing")
    detail = f" {excerpt(label(main), 80)}" if main is not None and step["type"] != "condition" else ""
    text = _("Would %(action)s") % {"action": f"{action}{detail}"} if dry_run else f"{action}{detail}"
    return text[0].upper() + text[1:]

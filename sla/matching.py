"""The SLA policy match condition: validated and compiled to a `Q` over conversations.

Format (the workflow condition format of SPEC §4, restricted to what SLA policies need):
`{"all": [...]}` / `{"any": [...]}` nest; a leaf is `{"field", "op", "value"}`. An empty tree (`{}` or null)
matches every conversation.

| field                   | compared with                         |
| ----------------------- | ------------------------------------- |
| `conversation.channel`  | `Conversation.channel`                |
| `conversation.priority` | `Conversation.priority`               |
| `conversation.team`     | the team, by id (int) or name (text)  |
| `contact.segment`       | `Contact.segment`                     |

| op       | value          | meaning                                   |
| -------- | -------------- | ----------------------------------------- |
| `eq`     | one value      | equal                                     |
| `neq`    | one value      | not equal (a missing team counts as not equal) |
| `in`     | list of values | equal to one of them                      |
| `not_in` | list of values | equal to none of them                     |

This module is deliberately small and self-contained: when the workflow engine's shared `conditions` module lands,
`compile_condition` can be replaced by it without touching callers (they only call `validate_condition` and
`compile_condition`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

MAX_DEPTH = 10


def _team_q(value: Any) -> Q:
    if isinstance(value, int) and not isinstance(value, bool):
        return Q(team_id=value)
    if isinstance(value, str) and value.strip().isdigit():
        return Q(team_id=int(value))
    return Q(team__name__iexact=str(value).strip())


def _column_q(column: str) -> Callable[[Any], Q]:
    return lambda value: Q(**{column: value})


# One entry per field: how to turn "field equals value" into a Q. Every op is built from this table.
FIELD_EQUALS: dict[str, Callable[[Any], Q]] = {
    "conversation.channel": _column_q("channel"),
    "conversation.priority": _column_q("priority"),
    "conversation.team": _team_q,
    "contact.segment": _column_q("contact__segment"),
}
SCALAR_OPS = {"eq", "neq"}
LIST_OPS = {"in", "not_in"}


def _any_of(field_name: str, values: list) -> Q:
    combined = Q(pk__in=[])  # matches nothing: `in []` is false
    for value in values:
        combined |= FIELD_EQUALS[field_name](value)
    return combined


def _compile_leaf(leaf: dict) -> Q:
    field_name, op, value = leaf["field"], leaf["op"], leaf["value"]
    if op in SCALAR_OPS:
        equals = FIELD_EQUALS[field_name](value)
    else:
        equals = _any_of(field_name, value)
    return ~equals if op in ("neq", "not_in") else equals


def compile_condition(tree: dict | None) -> Q:
    """A Q over `Conversation` equivalent to the (validated) condition tree."""
    if not tree:
        return Q()
    if "all" in tree or "any" in tree:
        parts = [compile_condition(child) for child in tree.get("all", tree.get("any"))]
        combined = Q() if "all" in tree else Q(pk__in=[])
        for part in parts:
            combined = combined & part if "all" in tree else combined | part
        return combined
    return _compile_leaf(tree)


def _validate_leaf(leaf: dict, path: str) -> None:
    if set(leaf) != {"field", "op", "value"}:
        shape = '{"field", "op", "value"} or {"all"/"any": [...]}'
        raise ValidationError({"match": f"{path}: a condition is {shape}."})
    if leaf["field"] not in FIELD_EQUALS:
        allowed = ", ".join(FIELD_EQUALS)
        raise ValidationError({"match": f'{path}: unknown field "{leaf["field"]}" (one of: {allowed}).'})
    op, value = leaf["op"], leaf["value"]
    if op not in SCALAR_OPS | LIST_OPS:
        raise ValidationError({"match": f'{path}: unknown op "{op}" (one of: eq, neq, in, not_in).'})
    values = value if op in LIST_OPS else [value]
    if op in LIST_OPS and not isinstance(value, list):
        raise ValidationError({"match": f'{path}: op "{op}" needs a list value.'})
    if not all(isinstance(item, (str, int)) and not isinstance(item, bool) for item in values):
        raise ValidationError({"match": f"{path}: values are text or whole numbers."})


def validate_condition(tree: Any, path: str = "match", depth: int = 0) -> dict:
    """Check a condition tree; raise a ValidationError naming the faulty node. Returns the tree ({} for empty)."""
    if tree is None or tree == {}:
        return {}
    if depth > MAX_DEPTH:
        raise ValidationError({"match": f"{path}: conditions nest at most {MAX_DEPTH} levels."})
    if not isinstance(tree, dict):
        raise ValidationError({"match": f"{path}: expected an object."})
    groups = [key for key in ("all", "any") if key in tree]
    if groups:
        key = groups[0]
        if len(tree) != 1 or not isinstance(tree[key], list):
            raise ValidationError({"match": f'{path}: a group is {{"{key}": [conditions]}} and nothing else.'})
        for index, child in enumerate(tree[key]):
            if child in (None, {}):
                raise ValidationError({"match": f"{path}.{key}[{index}]: empty condition."})
            validate_condition(child, f"{path}.{key}[{index}]", depth + 1)
        return tree
    _validate_leaf(tree, path)
    return tree

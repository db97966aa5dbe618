"""The SLA policy match condition: validated and compiled to a `Q` over conversations.

The format is the workflow condition format of docs/managers.md (`{"all": [...]}` / `{"any": [...]}` nest; a leaf is
`{"field", "op", "value"}`; an empty tree matches every conversation) restricted to the fields a policy selects on,
and it compiles with the same lookups as the workflow engine's `conditions.to_q` (text compares case-insensitively,
`in` lists compare exactly). The SLA app sits below the workflow engine in the layering, so it cannot import that
module; `tests/sla/test_matching.py` checks both select the same conversations.

| field                   | compared with                                                   |
| ----------------------- | --------------------------------------------------------------- |
| `conversation.channel`  | `Conversation.channel`                                          |
| `conversation.priority` | `Conversation.priority`                                         |
| `conversation.team`     | the team's name (a whole number, or a list of them, is its id)  |
| `contact.segment`       | `Contact.segment`                                               |

Ops: `eq`, `neq`, `in`, `not_in`, `contains`, `not_contains`, `starts_with`, `ends_with`, `is_set`, `is_not_set`,
`matches` (regex). Negated ops also match conversations where the value is missing (no team).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from conversations import safe_regex

MAX_DEPTH = 10

# field -> ORM path of its text value, and of its id when a whole number is given (team only).
FIELDS: dict[str, tuple[str, str | None]] = {
    "conversation.channel": ("channel", None),
    "conversation.priority": ("priority", None),
    "conversation.team": ("team__name", "team_id"),
    "contact.segment": ("contact__segment", None),
}
# op -> (ORM lookup, negated, value kind); lookups as in the workflow engine's operator table.
OPS: dict[str, tuple[str | None, bool, str]] = {
    "eq": ("iexact", False, "scalar"),
    "neq": ("iexact", True, "scalar"),
    "in": ("in", False, "list"),
    "not_in": ("in", True, "list"),
    "contains": ("icontains", False, "scalar"),
    "not_contains": ("icontains", True, "scalar"),
    "starts_with": ("istartswith", False, "scalar"),
    "ends_with": ("iendswith", False, "scalar"),
    "is_set": (None, False, "none"),
    "is_not_set": (None, True, "none"),
    "matches": ("iregex", False, "regex"),
}


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _leaf_q(leaf: dict) -> Q:
    text_path, id_path = FIELDS[leaf["field"]]
    lookup, negated, kind = OPS[leaf["op"]]
    value = leaf.get("value")
    if lookup is None:
        q = Q(**{f"{text_path}__isnull": False}) & ~Q(**{text_path: ""})
    elif kind == "list":
        names, ids = [v for v in value if not _is_id(v)], [v for v in value if _is_id(v)]
        q = Q(**{f"{text_path}__in": names})
        if ids and id_path:
            q |= Q(**{f"{id_path}__in": ids})
    elif _is_id(value) and id_path:
        q = Q(**{id_path: value})
    elif lookup == "iexact" and not isinstance(value, str):
        q = Q(**{text_path: value})
    else:
        q = Q(**{f"{text_path}__{lookup}": value})
    return ~q if negated else q


def compile_condition(tree: dict | None) -> Q:
    """A Q over `Conversation` equivalent to the (validated) condition tree; an empty tree is `Q()`."""
    if not tree:
        return Q()
    if "all" in tree or "any" in tree:
        combined = Q() if "all" in tree else Q(pk__in=[])  # like evaluation: all([]) is true, any([]) false
        for child in tree.get("all", tree.get("any")):
            part = compile_condition(child)
            combined = (combined & part) if "all" in tree else (combined | part)
        return combined
    return _leaf_q(tree)


def _validate_value(leaf: dict, kind: str, path: str) -> None:
    value = leaf.get("value")
    if kind == "none":
        return
    if "value" not in leaf:
        raise ValidationError(
            {"match": _('%(path)s: op "%(leaf_op)s" needs a value.') % {"path": path, "leaf_op": leaf["op"]}}
        )
    values = value if kind == "list" else [value]
    if kind == "list" and not isinstance(value, list):
        raise ValidationError(
            {"match": _('%(path)s: op "%(leaf_op)s" needs a list value.') % {"path": path, "leaf_op": leaf["op"]}}
        )
    if not all(isinstance(item, (str, int)) and not isinstance(item, bool) for item in values):
        raise ValidationError({"match": _("%(path)s: values are text or whole numbers.") % {"path": path}})
    problem = safe_regex.pattern_error(str(value)) if kind == "regex" else None
    if problem:
        raise ValidationError({"match": _("%(path)s: %(problem)s") % {"path": path, "problem": problem}})


def _validate_leaf(leaf: dict, path: str) -> None:
    if not {"field", "op"} <= set(leaf) <= {"field", "op", "value"}:
        shape = '{"field", "op", "value"} or {"all"/"any": [...]}'
        raise ValidationError({"match": _("%(path)s: a condition is %(shape)s.") % {"path": path, "shape": shape}})
    if leaf["field"] not in FIELDS:
        allowed = ", ".join(FIELDS)
        raise ValidationError(
            {
                "match": _('%(path)s: unknown field "%(leaf_field)s" (one of: %(allowed)s).')
                % {"path": path, "leaf_field": leaf["field"], "allowed": allowed}
            }
        )
    if leaf["op"] not in OPS:
        raise ValidationError(
            {
                "match": _('%(path)s: unknown op "%(leaf_op)s" (one of: %(value2)s).')
                % {"path": path, "leaf_op": leaf["op"], "value2": ", ".join(OPS)}
            }
        )
    _validate_value(leaf, OPS[leaf["op"]][2], path)


def validate_condition(tree: Any, path: str = "match", depth: int = 0) -> dict:
    """Check a condition tree; raise a ValidationError naming the faulty node. Returns the tree ({} for empty)."""
    if tree is None or tree == {}:
        return {}
    if depth > MAX_DEPTH:
        raise ValidationError(
            {
                "match": _("%(path)s: conditions nest at most %(MAX_DEPTH)s levels.")
                % {"path": path, "MAX_DEPTH": MAX_DEPTH}
            }
        )
    if not isinstance(tree, dict):
        raise ValidationError({"match": _("%(path)s: expected an object.") % {"path": path}})
    groups = [key for key in ("all", "any") if key in tree]
    if groups:
        key = groups[0]
        if len(tree) != 1 or not isinstance(tree[key], list):
            raise ValidationError(
                {
                    "match": _('%(path)s: a group is {"%(key)s": [conditions]} and nothing else.')
                    % {"path": path, "key": key}
                }
            )
        for index, child in enumerate(tree[key]):
            if child in (None, {}):
                raise ValidationError(
                    {
                        "match": _("%(path)s.%(key)s[%(index)s]: empty condition.")
                        % {"path": path, "key": key, "index": index}
                    }
                )
            validate_condition(child, f"{path}.{key}[{index}]", depth + 1)
        return tree
    _validate_leaf(tree, path)
    return tree

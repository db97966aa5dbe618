"""Condition trees (docs/managers.md): `{"all": [...]}` / `{"any": [...]}` nesting leaves `{"field", "op", "value"}`.

One operator table drives three things: validation, evaluation over a run context (plain data), and compilation to a
Django `Q` over conversations (for the `schedule` trigger and SLA policy matching), so the three never disagree.
`matches` runs on RE2 (`conversations.safe_regex`): in Python when evaluated, through the `iregex` lookup in a query
(an RE2 `REGEXP` on SQLite, PostgreSQL's own automaton-based `~*`), so a pattern never backtracks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from conversations import clock, safe_regex
from conversations.models import ConversationField
from workflows.engine import business_hours

MISSING = object()


def _norm(value: Any) -> Any:
    """Strings compare case-insensitively, as support managers expect from Zendesk-style conditions."""
    return value.casefold() if isinstance(value, str) else value


def _equals(actual: Any, expected: Any) -> bool:
    if isinstance(actual, (list, tuple)):
        return any(_equals(item, expected) for item in actual)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected or (isinstance(expected, str) and str(actual).lower() == expected.lower())
    if isinstance(actual, (int, float)) and isinstance(expected, str):
        return bool(_as_number(expected) == actual)
    return bool(_norm(actual) == _norm(expected))


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, (list, tuple)):
        return any(_equals(item, expected) for item in actual)
    if isinstance(actual, dict):
        return expected in actual
    if actual is None or actual is MISSING:
        return False
    return _norm(str(expected)) in _norm(str(actual))


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(actual: Any, expected: Any, test: Callable[[Any, Any], bool]) -> bool:
    a, b = _as_number(actual), _as_number(expected)
    if a is not None and b is not None:
        return test(a, b)
    if isinstance(actual, str) and isinstance(expected, str):  # ISO timestamps compare as strings
        return test(actual, expected)
    return False


def _is_set(actual: Any) -> bool:
    return actual is not MISSING and actual is not None and actual != "" and actual != [] and actual != {}


def _in(actual: Any, expected: Any) -> bool:
    if isinstance(actual, (list, tuple)):
        return any(_in(item, expected) for item in actual)
    return any(_equals(actual, option) for option in expected)


def _matches(actual: Any, expected: Any) -> bool:
    if actual is None or actual is MISSING:
        return False
    return safe_regex.search(expected, str(actual))


@dataclass(frozen=True)
class Operator:
    evaluate: Callable[[Any, Any], bool]
    lookup: str | None  # ORM lookup for compilation; None = handled specially
    negate: bool = False
    value_kind: str = "any"  # any | list | number | regex | none


OPERATORS: dict[str, Operator] = {
    "eq": Operator(_equals, "iexact"),
    "neq": Operator(lambda a, e: not _equals(a, e), "iexact", negate=True),
    "contains": Operator(_contains, "icontains"),
    "not_contains": Operator(lambda a, e: not _contains(a, e), "icontains", negate=True),
    "starts_with": Operator(
        lambda a, e: a not in (None, MISSING) and _norm(str(a)).startswith(_norm(str(e))), "istartswith"
    ),
    "ends_with": Operator(lambda a, e: a not in (None, MISSING) and _norm(str(a)).endswith(_norm(str(e))), "iendswith"),
    "in": Operator(_in, "in", value_kind="list"),
    "not_in": Operator(lambda a, e: not _in(a, e), "in", negate=True, value_kind="list"),
    "gt": Operator(lambda a, e: _compare(a, e, lambda x, y: x > y), "gt", value_kind="number"),
    "gte": Operator(lambda a, e: _compare(a, e, lambda x, y: x >= y), "gte", value_kind="number"),
    "lt": Operator(lambda a, e: _compare(a, e, lambda x, y: x < y), "lt", value_kind="number"),
    "lte": Operator(lambda a, e: _compare(a, e, lambda x, y: x <= y), "lte", value_kind="number"),
    "is_set": Operator(lambda a, e: _is_set(a), None, value_kind="none"),
    "is_not_set": Operator(lambda a, e: not _is_set(a), None, negate=True, value_kind="none"),
    "matches": Operator(_matches, "iregex", value_kind="regex"),
    "within_business_hours": Operator(lambda a, e: business_hours.within(a, e) is True, None, value_kind="calendar"),
    "outside_business_hours": Operator(lambda a, e: business_hours.within(a, e) is False, None, value_kind="calendar"),
}
# Operators only evaluated over a run context (they read a calendar), never compiled to a database query.
CONTEXT_ONLY_OPERATORS = frozenset({"within_business_hours", "outside_business_hours"})

# Fields of the run context a condition may name (besides the open namespaces event.*, vars.*, sla.*,
# contact.attributes.*). Kept here so validation and the field pickers of the admin read one list.
CONVERSATION_FIELDS = (
    "id",
    "subject",
    "channel",
    "status",
    "priority",
    "assignee",
    "team",
    "tags",
    "disposition",
    "sentiment",
    "created_at",
    "age_minutes",
    "idle_minutes",
    "first_response_at",
    "last_customer_message_at",
    "resolved_at",
    "message_count",
    "fields",
)
CONTACT_FIELDS = ("id", "name", "email", "phone", "segment", "language", "attributes")
MESSAGE_FIELDS = ("id", "body", "sender_type", "internal", "sentiment", "created_at", "has_attachments")
OPEN_NAMESPACES = ("event.", "vars.", "sla.", "contact.attributes.")
FIELDS_NAMESPACE = "conversation.fields."  # conversation fields: known when a definition has the key (docs/managers.md)

# Conversation fields a database query can filter on, with their ORM paths (for `schedule` and SLA matching).
QUERY_FIELDS = {
    "conversation.id": "id",
    "conversation.subject": "subject",
    "conversation.channel": "channel",
    "conversation.status": "status",
    "conversation.priority": "priority",
    "conversation.assignee": "assignee__username",
    "conversation.team": "team__name",
    "conversation.tags": "tags__name",
    "conversation.disposition": "disposition",
    "conversation.sentiment": "sentiment",
    "contact.name": "contact__name",
    "contact.email": "contact__email",
    "contact.segment": "contact__segment",
    "contact.phone": "contact__phone",
}
# Age-like fields compile to a comparison on a timestamp: "older than N minutes" = "stamped before now - N".
MINUTES_SINCE_FIELDS = {
    "conversation.age_minutes": "created_at",
    "conversation.idle_minutes": "updated_at",
}
REVERSED_COMPARISON = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}


def is_known_field(field: str) -> bool:
    """True when `field` names something the run context has."""
    if any(field.startswith(prefix) and len(field) > len(prefix) for prefix in OPEN_NAMESPACES):
        return True
    if field.startswith(FIELDS_NAMESPACE):
        key = field[len(FIELDS_NAMESPACE) :].split(".")[0]
        return bool(key) and ConversationField.objects.filter(key=key).exists()
    namespace, _dot, name = field.partition(".")
    known = {"conversation": CONVERSATION_FIELDS, "contact": CONTACT_FIELDS, "message": MESSAGE_FIELDS}
    return name in known.get(namespace, ())


def resolve_field(context: dict[str, Any], field: str) -> Any:
    """Follow a dotted path through plain dicts/lists; MISSING when any part is absent."""
    current: Any = context
    for part in field.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def evaluate(tree: dict[str, Any], context: dict[str, Any]) -> bool:
    """Evaluate a condition tree over a run context. An empty tree is true."""
    if not tree:
        return True
    if "all" in tree:
        return all(evaluate(child, context) for child in tree["all"])
    if "any" in tree:
        return any(evaluate(child, context) for child in tree["any"])
    operator = OPERATORS[tree["op"]]
    return operator.evaluate(resolve_field(context, tree["field"]), tree.get("value"))


def explain(tree: dict[str, Any], context: dict[str, Any]) -> list[dict[str, Any]]:
    """Each leaf with the value it saw and its result, for dry runs and run logs."""
    if not tree:
        return []
    children = tree.get("all") or tree.get("any")
    if children is not None:
        return [line for child in children for line in explain(child, context)]
    actual = resolve_field(context, tree["field"])
    return [
        {
            "field": tree["field"],
            "op": tree["op"],
            "value": tree.get("value"),
            "actual": None if actual is MISSING else actual,
            "result": evaluate(tree, context),
        }
    ]


# Validation -------------------------------------------------------------------------------------------------


def validate(tree: Any, key: str = "", *, query_only: bool = False) -> list[tuple[str, str]]:
    """Every problem of a condition tree as (key path, message); empty when valid."""
    prefix = f"{key}." if key else ""
    if not isinstance(tree, dict):
        return [(key or "condition", 'A condition is an object: {"all": [...]}, {"any": [...]} or a leaf.')]
    if not tree:
        return []
    groups = [name for name in ("all", "any") if name in tree]
    if groups:
        children = tree[groups[0]]
        if len(groups) > 1 or not isinstance(children, list):
            return [(f"{prefix}{groups[0]}", 'Use either "all" or "any", with a list of conditions.')]
        errors: list[tuple[str, str]] = []
        for index, child in enumerate(children):
            errors += validate(child, f"{prefix}{groups[0]}[{index}]", query_only=query_only)
        return errors
    return _validate_leaf(tree, prefix, query_only)


def _validate_leaf(leaf: dict[str, Any], prefix: str, query_only: bool) -> list[tuple[str, str]]:
    field, op = leaf.get("field"), leaf.get("op")
    if not isinstance(field, str) or not field:
        return [(f"{prefix}field", _("A condition needs a field, e.g. conversation.status."))]
    if op not in OPERATORS:
        return [
            (
                f"{prefix}op",
                _('Unknown operator "%(op)s". Use one of: %(choices)s.') % {"op": op, "choices": ", ".join(OPERATORS)},
            )
        ]
    if query_only and op in CONTEXT_ONLY_OPERATORS:
        return [(f"{prefix}op", _('"%(name)s" cannot be used in a database query condition.') % {"name": op})]
    if (
        query_only
        and field not in QUERY_FIELDS
        and field not in MINUTES_SINCE_FIELDS
        and not field.startswith(("contact.attributes.", FIELDS_NAMESPACE))
    ):
        return [(f"{prefix}field", _('"%(name)s" cannot be used in a database query condition.') % {"name": field})]
    if not is_known_field(field):
        return [(f"{prefix}field", _('Unknown field "%(field)s".') % {"field": field})]
    return _validate_value(OPERATORS[op], leaf, prefix)


def _validate_value(operator: Operator, leaf: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    value = leaf.get("value")
    if operator.value_kind == "none":
        return []
    if operator.value_kind == "calendar":  # empty: the default calendar
        problem = business_hours.reference_error(value)
        return [(f"{prefix}value", problem)] if problem else []
    if "value" not in leaf:
        return [(f"{prefix}value", _("This operator needs a value."))]
    if operator.value_kind == "list" and not isinstance(value, list):
        return [(f"{prefix}value", _("This operator needs a list of values."))]
    if operator.value_kind == "number" and _as_number(value) is None and not isinstance(value, str):
        return [(f"{prefix}value", _("This operator needs a number or a timestamp."))]
    if operator.value_kind == "regex":
        problem = safe_regex.pattern_error(value)
        return [(f"{prefix}value", problem)] if problem else []
    return []


# Compilation to a database query ----------------------------------------------------------------------------


def to_q(tree: dict[str, Any], now: dt.datetime | None = None) -> Q:
    """Compile a (query-only) condition tree to a Q over Conversation."""
    if not tree:
        return Q()
    if "all" in tree or "any" in tree:
        parts = [to_q(child, now) for child in tree.get("all") or tree.get("any") or []]
        combined = Q()
        for part in parts:
            combined = (combined & part) if "all" in tree else (combined | part)
        return combined
    return _leaf_q(tree, now or clock.now())


def _leaf_q(leaf: dict[str, Any], now: dt.datetime) -> Q:
    field, op, value = leaf["field"], leaf["op"], leaf.get("value")
    operator = OPERATORS[op]
    if field in MINUTES_SINCE_FIELDS:
        return _minutes_since_q(MINUTES_SINCE_FIELDS[field], op, value, now)
    path = QUERY_FIELDS.get(field) or _json_path(field)
    if operator.lookup is None:  # is_set / is_not_set
        q = Q(**{f"{path}__isnull": False}) & ~Q(**{path: ""})
    elif operator.lookup == "iexact" and not isinstance(value, str):
        q = Q(**{path: value})
    elif operator.lookup == "in":
        q = Q(**{f"{path}__in": value})
    else:
        q = Q(**{f"{path}__{operator.lookup}": value})
    return ~q if operator.negate else q


def _json_path(field: str) -> str:
    """The ORM path of a key inside a JSON column: contact attributes or conversation fields."""
    if field.startswith(FIELDS_NAMESPACE):
        return "fields__" + field.removeprefix(FIELDS_NAMESPACE).replace(".", "__")
    return "contact__attributes__" + field.removeprefix("contact.attributes.").replace(".", "__")


def _minutes_since_q(column: str, op: str, value: Any, now: dt.datetime) -> Q:
    minutes = _as_number(value) or 0
    moment = now - dt.timedelta(minutes=minutes)
    if op in REVERSED_COMPARISON:
        return Q(**{f"{column}__{REVERSED_COMPARISON[op]}": moment})
    if op in ("eq", "neq"):
        window = Q(**{f"{column}__gt": moment - dt.timedelta(minutes=1), f"{column}__lte": moment})
        return ~window if op == "neq" else window
    return Q(**{f"{column}__isnull": op == "is_not_set"})

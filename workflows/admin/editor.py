"""The workflow editor's fields, generated from the JSON Schemas of trigger and step types (no per-type code).

Two directions share one notion of a widget kind per schema: `fields_for` turns a config into widget nodes the
admin templates render (with the shared validator's errors attached to the field they name), and `config_from_post`
turns the posted strings back into typed config. Inputs are named by their key path in the workflow definition
(`steps[2].config.all[0].value`), the same path the validator uses in its error keys, so an error finds its field.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _

from workflows.engine.conditions import OPERATORS
from workflows.labels import key_label

MISSING = object()
CONDITION_KEYS = frozenset({"match", "conditions"})
LONG_TEXT_KEYS = frozenset({"text", "body", "note", "description", "question"})
INDEX_PLACEHOLDER = "__i__"
TRUE_WORDS = frozenset({"on", "true", "1", "yes"})
PATH_HEAD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*")
PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# The "Other…" choice of a reference picker (pickers.js swaps in a text box); posted without the script, it is empty.
PICKER_OTHER = "__other__"


class CoerceError(ValueError):
    """A posted value cannot be read as its schema type (shown on its field like a validator error)."""


# Widget kinds -----------------------------------------------------------------------------------------------


def _types(schema: dict) -> set[str]:
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def is_condition_schema(key: str, schema: dict) -> bool:
    """A condition tree edited with the condition builder: the schedule trigger's `match`, the event triggers'
    `conditions` filter."""
    return key in CONDITION_KEYS and _types(schema) == {"object"} and "properties" not in schema


def widget_kind(key: str, schema: dict) -> str:
    """The widget a config key gets, from its JSON Schema alone (`"x-editor": "json"` asks for a JSON box, e.g. a
    branch's nested steps)."""
    types = _types(schema)
    if schema.get("x-editor") == "json":
        return "json"
    if "enum" in schema:
        return "select"
    if is_condition_schema(key, schema):
        return "condition"
    if types == {"boolean"}:
        return "checkbox"
    if types == {"boolean", "null"}:
        return "tristate"
    if types and types <= {"integer", "number"}:
        return "number"
    if types == {"string"}:
        return "textarea" if key in LONG_TEXT_KEYS or schema.get("maxLength", 0) > 1000 else "text"
    if types and types <= {"string", "integer"}:
        return "text"
    if "string" in types and types <= {"string", "number", "integer", "boolean", "null"}:
        return "scalar"
    if types == {"array"}:
        items = schema.get("items", {})
        if "enum" in items:
            return "checkboxes"
        return "rows" if _types(items) == {"object"} and items.get("properties") else "lines"
    return "json"


# Posted strings -> typed values -----------------------------------------------------------------------------


def parse_path(name: str) -> list[str | int] | None:
    """`steps[2].config.all[0].value` -> ["steps", 2, "config", "all", 0, "value"]; None if it is not a path."""
    head = PATH_HEAD.match(name)
    if not head:
        return None
    parts: list[str | int] = [head.group()]
    position = head.end()
    for match in PATH_PART.finditer(name, position):
        if match.start() != position:
            return None
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return parts if position == len(name) else None


def nest(pairs: list[tuple[list[str | int], Any]]) -> dict:
    """Build the nested structure the paths describe; integer parts become lists in index order."""
    root: dict = {}
    for path, value in pairs:
        node = root
        for part in path[:-1]:
            child = node.get(part)
            node[part] = child = child if isinstance(child, dict) else {}
            node = child
        node[path[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(isinstance(key, int) for key in converted):
        return [converted[key] for key in sorted(converted)]
    return converted


def _id_or_name(text: str) -> str | int:
    """Teams, agents and integrations are named by id or by name: digits are an id."""
    return int(text) if text.isdigit() else text


def literal(text: str) -> Any:
    """A condition value typed as the manager meant it: true/false, a number, or text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if NUMBER.match(text.strip()):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return text


def _enum_value(schema: dict, text: str) -> Any:
    return next((option for option in schema["enum"] if str(option) == text), text)


def as_list(raw: Any) -> list:
    """A posted value as a list (a single value, or none, included)."""
    if raw is MISSING or raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def text_of(raw: Any) -> str:
    """A posted value as one string (the last one when several were posted)."""
    return raw[-1] if isinstance(raw, list) and raw else raw if isinstance(raw, str) else ""


def _number(schema: dict, text: str) -> int | float:
    try:
        number = float(text)
    except ValueError as exc:
        raise CoerceError(_("Enter a number.")) from exc
    if number.is_integer() and ("integer" in _types(schema) or "." not in text):
        return int(number)
    return number


def _json(schema: dict, text: str) -> Any:
    """JSON for objects and lists; for a value of any type, text that is not JSON is a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if _types(schema) & {"object", "array"}:
            raise CoerceError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc
        return text


def _lines(schema: dict, text: str) -> list:
    items = [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]
    item_types = _types(schema.get("items", {}))
    return [_id_or_name(item) for item in items] if "integer" in item_types else items


def _scalar(kind: str, schema: dict, text: str) -> Any:
    """Strings of single-value widgets to their typed value (MISSING when left empty)."""
    if kind == "checkbox":
        return True if text.lower() in TRUE_WORDS else MISSING
    if not text.strip() or text == PICKER_OTHER:
        return MISSING
    if kind == "select":
        return _enum_value(schema, text)
    if kind == "tristate":
        return text.lower() in TRUE_WORDS
    if kind == "number":
        return _number(schema, text.strip())
    if kind == "lines":
        return _lines(schema, text) or MISSING
    if kind == "json":
        return _json(schema, text)
    if kind == "text" and "integer" in _types(schema):
        return _id_or_name(text.strip())
    if kind == "scalar":
        return literal(text) if NUMBER.match(text.strip()) or text.strip().lower() in ("true", "false") else text
    return text.replace("\r\n", "\n") if kind == "textarea" else text.strip()


def coerce(key: str, schema: dict, raw: Any, name: str, errors: dict[str, list[str]]) -> Any:
    """One posted config value to its typed value; a value that cannot be read is kept as typed, with an error."""
    kind = widget_kind(key, schema)
    if kind == "condition":
        return condition_from_post(raw) if isinstance(raw, dict) else MISSING
    if kind == "checkboxes":
        values = [_enum_value(schema["items"], item) for item in as_list(raw) if item]
        return values or MISSING
    if kind == "rows":
        rows = [
            config_from_post(schema["items"], row, f"{name}[{index}]", errors)
            for index, row in enumerate(as_list(raw))
            if isinstance(row, dict)
        ]
        return [row for row in rows if row] or MISSING
    try:
        return _scalar(kind, schema, text_of(raw))
    except CoerceError as exc:
        errors.setdefault(name, []).append(str(exc))
        return text_of(raw)


def config_from_post(schema: dict, raw: Any, name: str, errors: dict[str, list[str]]) -> Any:
    """A posted config (nested strings) to typed config, following its schema's properties."""
    properties = schema.get("properties")
    if not properties:
        value = coerce("config", {"type": "object"}, raw, name, errors) if isinstance(raw, (str, list)) else raw
        return {} if value is MISSING else value
    raw = raw if isinstance(raw, dict) else {}
    config = {}
    for key, property_schema in properties.items():
        value = coerce(key, property_schema, raw.get(key, MISSING), f"{name}.{key}", errors)
        if value is not MISSING:
            config[key] = value
    return config


def condition_from_post(raw: dict) -> dict:
    """A posted condition tree: groups keep their all/any key, leaves get their value typed by the operator."""
    for mode in ("all", "any"):
        if mode in raw:
            return {mode: [condition_from_post(child) for child in as_list(raw[mode]) if isinstance(child, dict)]}
    if not raw:
        return {}
    leaf: dict[str, Any] = {"field": text_of(raw.get("field")).strip(), "op": text_of(raw.get("op"))}
    operator = OPERATORS.get(leaf["op"])
    value = text_of(raw.get("value"))
    if operator is None or operator.value_kind != "none":
        leaf["value"] = condition_value(operator.value_kind if operator else "any", value)
    return leaf


def condition_value(value_kind: str, text: str) -> Any:
    """A condition value from its text box: lists are comma-separated, regexes stay text."""
    if value_kind == "list":
        return [literal(item.strip()) for item in text.split(",") if item.strip()]
    if value_kind == "regex":
        return text
    return literal(text) if text.strip() else ""


# Typed values -> widget nodes -------------------------------------------------------------------------------


class ErrorBag:
    """The validator's errors, handed out to the field that matches each key, then to the nearest container."""

    def __init__(self, errors: dict[str, list[str]] | None = None):
        self.remaining = dict(errors or {})

    def take(self, name: str) -> list[str]:
        return self.remaining.pop(name, [])

    def take_under(self, prefix: str) -> list[str]:
        """Errors on `prefix` or inside it, each labelled with the part of the key below `prefix`."""
        keys = [
            key
            for key in self.remaining
            if key == prefix or key.startswith(prefix + ".") or key.startswith(prefix + "[")
        ]
        found = []
        for key in keys:
            below = key[len(prefix) :].lstrip(".")
            found += [f"{below}: {message}" if below else message for message in self.remaining.pop(key)]
        return found


def humanize(key: str) -> str:
    """A readable label for a key or an enum value, in the viewer's language (upper-case values such as HTTP methods
    stay as they are; see `workflows.labels`)."""
    return key_label(key)


def display_value(kind: str, value: Any) -> Any:
    """How a typed value shows in its widget."""
    if value is MISSING or value is None:
        return "" if kind not in ("checkboxes", "rows") else []
    if kind == "lines":
        return "\n".join(str(item) for item in value) if isinstance(value, list) else str(value)
    if kind == "json":
        return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    if kind in ("select", "tristate", "scalar"):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def field_node(
    key: str, schema: dict, value: Any, name: str, errors: ErrorBag, *, required: bool = False, templated: bool = False
) -> dict[str, Any]:
    """The widget node of one config key (see `editor/field.html`)."""
    kind = widget_kind(key, schema)
    node: dict[str, Any] = {
        "kind": kind,
        "key": key,
        "name": name,
        "leaf": f".{key}",
        "label": humanize(key),
        "required": required,
        "templated": templated,
        "help": _(schema["description"]) if schema.get("description") else "",
        "value": display_value(kind, value),
        "placeholder": _placeholder(kind, schema),
    }
    if kind == "select":
        node["choices"] = [("", "—")] + [(str(option), humanize(str(option))) for option in schema["enum"]]
    elif kind == "tristate":
        node["choices"] = [("", _("Either")), ("true", _("Yes")), ("false", _("No"))]
    elif kind == "checkboxes":
        chosen = {str(item) for item in as_list(value)}
        node["choices"] = [
            (str(option), humanize(str(option)), str(option) in chosen) for option in schema["items"]["enum"]
        ]
    elif kind == "rows":
        node.update(_rows(schema["items"], value, name, errors))
    elif kind == "condition":
        node["tree"] = condition_node(value if isinstance(value, dict) else {}, name, errors)
    node["errors"] = errors.take(name) + (errors.take_under(name) if kind in ("rows", "json") else [])
    return node


def _placeholder(kind: str, schema: dict) -> str:
    if kind == "lines":
        return _("One per line")
    if kind == "text" and "integer" in _types(schema):
        return _("Name or id")
    return ""


def _rows(item_schema: dict, value: Any, name: str, errors: ErrorBag) -> dict[str, Any]:
    """A list of small objects (headers, values, buttons): one row of sub-fields each, plus a blank row."""
    required = set(item_schema.get("required", []))
    properties = item_schema["properties"]

    def row(index: int | str, item: dict) -> list[dict]:
        return [
            field_node(
                key,
                sub,
                item.get(key, MISSING),
                f"{name}[{index}].{key}",
                errors,
                required=key in required,
                templated=True,
            )
            for key, sub in properties.items()
        ]

    items = [item for item in as_list(value) if isinstance(item, dict)]
    return {
        "rows": [row(index, item) for index, item in enumerate(items)],
        "blank_row": row(INDEX_PLACEHOLDER, {}),
        "columns": [humanize(key) for key in properties],
    }


def config_nodes(
    schema: dict, config: Any, name: str, errors: ErrorBag, templated: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Widget nodes for a whole config: one per schema property, or one JSON box for a schema without any."""
    properties = schema.get("properties")
    if not properties:
        node = field_node("config", {"type": "object"}, config if config not in ({}, None) else MISSING, name, errors)
        return [{**node, "leaf": "", "label": _("Config (JSON)")}]
    config = config if isinstance(config, dict) else {}
    required = set(schema.get("required", []))
    return [
        field_node(
            key,
            sub,
            config.get(key, MISSING),
            f"{name}.{key}",
            errors,
            required=key in required,
            templated=key in templated,
        )
        for key, sub in properties.items()
    ]


def condition_node(tree: dict, prefix: str, errors: ErrorBag) -> dict[str, Any]:
    """A condition group for the builder: its all/any mode and its rows (leaves or nested groups)."""
    mode = "any" if "any" in tree else "all"
    children = tree.get(mode) if isinstance(tree.get(mode), list) else ([tree] if "field" in tree else [])
    items = [_condition_item(child, f"{prefix}.{mode}[{index}]", errors) for index, child in enumerate(children)]
    return {
        "group": True,
        "mode": mode,
        "prefix": prefix,
        "items": items,
        "errors": errors.take_under(f"{prefix}.{mode}") + errors.take(prefix),
    }


def _condition_item(child: Any, prefix: str, errors: ErrorBag) -> dict[str, Any]:
    child = child if isinstance(child, dict) else {}
    if "all" in child or "any" in child:
        return condition_node(child, prefix, errors)
    operator = OPERATORS.get(child.get("op", "eq"))
    value = child.get("value", "")
    return {
        "group": False,
        "prefix": prefix,
        "field": child.get("field", ""),
        "op": child.get("op", "eq"),
        "value": ", ".join(_literal_text(item) for item in value) if isinstance(value, list) else _literal_text(value),
        "no_value": bool(operator and operator.value_kind == "none"),
        "field_errors": errors.take(f"{prefix}.field"),
        "op_errors": errors.take(f"{prefix}.op"),
        "value_errors": errors.take(f"{prefix}.value"),
        "errors": errors.take_under(prefix),
    }


def _literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


BLANK_LEAF = {"field": "", "op": "eq", "value": ""}

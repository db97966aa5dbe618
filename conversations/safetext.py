"""Text that cannot poison storage: the one check every edge (API parser, admin forms) runs on decoded input.

Three things are refused, each with a message naming where it was found:
- a NUL character (PostgreSQL refuses it in text and jsonb, so a row that SQLite takes would break a later move);
- a lone UTF-16 surrogate such as "\\ud83d" (JSON may spell one, Python decodes it, SQLite's JSON columns keep it,
  and from then on every page that renders the row fails to encode it as UTF-8);
- nesting deeper than MAX_DEPTH, or more than MAX_VALUES values in one body (checked without recursion, so the check
  itself cannot overflow the stack, and stopping at the first excess, so a huge body costs little).
Refusing is chosen over normalising: a client that sent half an emoji or a NUL has a bug it should hear about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _

MAX_DEPTH = 64
MAX_VALUES = 100_000

_UNSAFE_CHARACTER = re.compile("[\x00\ud800-\udfff]")
TOO_DEEP = f"Nested more than {MAX_DEPTH} levels deep."
_TOO_MANY = f"More than {MAX_VALUES} values in one body."


@dataclass(frozen=True)
class TextProblem:
    """Where a body is unsafe (`path` like `steps[1].config.text`, `field` its top-level key) and why."""

    field: str
    path: str
    message: str

    def describe(self) -> str:
        return f"{self.message} (at {self.path})" if self.path else self.message


def character_problem(text: str) -> str | None:
    """Why this text cannot be stored, or None when it can."""
    found = _UNSAFE_CHARACTER.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Text cannot contain NUL characters."
    return (
        f"Text cannot contain a lone UTF-16 surrogate (\\u{ord(found.group()):04x}); "
        "send characters as UTF-8 or as a complete surrogate pair."
    )


def _child_path(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _children(value: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(value, dict):
        return iter(value.items())
    if isinstance(value, list):
        return enumerate(value)
    return iter(())


def find_text_problem(value: Any, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> TextProblem | None:
    """The first unsafe key or text in a decoded JSON value, or an excess of depth or size; None when it is safe.

    Iterative (an explicit stack), so a body nested a thousand levels deep is refused instead of crashing the check.
    """
    stack: list[tuple[Any, str, str, int]] = [(value, "", "", 0)]
    seen = 0
    while stack:
        current, field, path, depth = stack.pop()
        seen += 1
        if seen > max_values:
            return TextProblem(field or "non_field_errors", path, _TOO_MANY)
        if depth > max_depth:
            return TextProblem(field or "non_field_errors", path, TOO_DEEP)
        if isinstance(current, str):
            problem = character_problem(current)
            if problem:
                return TextProblem(field or "non_field_errors", path, problem)
            continue
        for key, child in _children(current):
            if isinstance(key, str) and (problem := character_problem(key)):
                return TextProblem(field or "non_field_errors", path, f"A key: {problem}")
            child_path = _child_path(path, key)
            stack.append((child, field or child_path, child_path, depth + 1))
    return None


def text_problem_errors(value: Any) -> dict[str, list[str]]:
    """`{field: [message]}` for the first unsafe spot in a decoded body (DRF's field-error shape), or {}."""
    problem = find_text_problem(value)
    return {problem.field: [problem.describe()]} if problem else {}


def without_lone_surrogates(value: Any) -> Any:
    """A copy of a decoded JSON value with each lone surrogate replaced by U+FFFD, the rest untouched: how rows stored
    before the edge refused them are repaired, and how a refused form value is shown back."""
    text = json.dumps(value, ensure_ascii=False)
    repaired = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value if repaired == text else json.loads(repaired)


def refuse_text_problem(value: Any) -> None:
    """Raise a form-style ValidationError naming the first unsafe spot in a decoded value."""
    problem = find_text_problem(value)
    if problem:
        raise ValidationError(problem.describe())


def checked_json(text: str) -> Any:
    """Decode JSON typed or uploaded into an admin form; bad JSON, too deep or unstorable text is a form error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(_("Not valid JSON: %(exc)s") % {"exc": exc}) from exc
    except RecursionError as exc:
        raise ValidationError(TOO_DEEP) from exc
    refuse_text_problem(data)
    return data


class SafeJSONFormField(forms.JSONField):
    """Django's form JSONField, except that deep nesting, NUL and lone surrogates are field errors, not 500s (and
    a refused value is shown back as typed, never re-encoded)."""

    def to_python(self, value: Any) -> Any:
        try:
            converted = super().to_python(value)
        except RecursionError as exc:
            raise ValidationError(TOO_DEEP, code="invalid") from exc
        refuse_text_problem(converted)
        return converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            value = super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)
        return InvalidJSONInput(data) if find_text_problem(value) else value


def repair_stored_surrogates(model: type, fields: list[str], connection: Any) -> int:
    """Replace lone surrogates in JSON columns written before the edges refused them; returns the rows repaired.

    Only SQLite can hold one (PostgreSQL's jsonb refuses it), and SQLite stores JSON ASCII-escaped, so a cheap LIKE
    on `\\ud` finds every candidate row (emoji pairs too, which the exact check in Python then leaves alone).
    """
    if connection.vendor != "sqlite":
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [connection.ops.quote_name(model._meta.get_field(name).column) for name in fields]
    where = " OR ".join(f"{column} LIKE %s" for column in columns)
    with connection.cursor() as cursor:
        pk = connection.ops.quote_name(model._meta.pk.column)
        cursor.execute(f"SELECT {pk} FROM {table} WHERE {where}", ["%\\ud%"] * len(columns))  # noqa: S608
        candidates = [row[0] for row in cursor.fetchall()]
    repaired = 0
    for row in model.objects.filter(pk__in=candidates).only("pk", *fields).iterator():
        changes = {name: without_lone_surrogates(getattr(row, name)) for name in fields}
        changes = {name: value for name, value in changes.items() if value is not getattr(row, name)}
        if changes:
            model.objects.filter(pk=row.pk).update(**changes)
            repaired += 1
    return repaired

"""Input checks the services share: choices, phone numbers, JSON objects, references; and the limits
the API and admin forms show."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from conversations.choices import (
    Status,
)
from conversations.phones import normalize_e164
from conversations.safetext import find_text_problem

User = get_user_model()

User = get_user_model()

MAX_BODY_LENGTH = 20_000
MAX_TAG_LENGTH = 100
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


_choice_values: dict[type, frozenset] = {}


def _values_of(choices: type) -> frozenset:
    """The values of a choices enum, as a set built once (`choices.values` builds a new list on every read)."""
    values = _choice_values.get(choices)
    if values is None:
        values = _choice_values[choices] = frozenset(choices.values)
    return values


def require_choice(value: str, choices: type, field: str) -> str:
    try:
        known = value in _values_of(choices)
    except TypeError:  # an unhashable value (a list or an object from JSON) is no choice
        known = False
    if not known:
        allowed = ", ".join(choices.values)
        raise ValidationError(
            {field: _('"%(value)s" is not one of: %(allowed)s.') % {"value": value, "allowed": allowed}}
        )
    return value


def clean_phone(phone: str | None) -> str:
    if not phone:
        return ""
    try:
        return normalize_e164(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc


def require_object(value: Any, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError({field: _("Expected a JSON object of keys and values.")})
    # NUL (refused by PostgreSQL), lone surrogates (unrenderable once stored) and deep nesting, checked without
    # recursion before json.dumps recurses: a workflow step's data is held to the same rule as the API's.
    problem = find_text_problem(value)
    if problem:
        raise ValidationError({field: problem.describe()})
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            {field: _("Expected plain JSON values (text, numbers, booleans, lists, objects).")}
        ) from exc
    return value

"""Conversation fields (docs/managers.md): typed definitions, their values on conversations, and the resolve check.

Definitions are rows (`ConversationField`); values live in `Conversation.fields` as plain JSON keyed by the
definition's key. Every value written is checked against its definition's type, and a change of values records
`conversation.fields_changed` (changed keys, old and new values) in the same transaction. Other apps that refer to
field keys (workflows) register a usage check with `register_field_usage`, so a definition they use is not retyped or
deleted under them; this app never imports them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations import payloads
from conversations.choices import EventType, FieldType
from conversations.events import record_event
from conversations.models import Conversation, ConversationField
from conversations.services.checks import require_choice
from conversations.services.locks import lock_conversation

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_TEXT_LENGTH = 2000
MAX_OPTIONS = 200
DEFINITION_FIELDS = ("key", "label", "type", "options", "required_on_resolve", "position")

# (field key) -> names of the things that use it, e.g. ["workflow \"Refunds\""]; registered by other apps.
FieldUsage = Callable[[str], list[str]]
_usage_checks: list[FieldUsage] = []


def register_field_usage(check: FieldUsage) -> None:
    """Let another app say who uses a field key (a workflow's condition, step or trigger), once per check."""
    if check not in _usage_checks:
        _usage_checks.append(check)


def field_users(key: str) -> list[str]:
    """Everything registered as using the field `key`, in words."""
    return [user for check in _usage_checks for user in check(key)]


# Definitions ------------------------------------------------------------------------------------------------


def check_definition(field: ConversationField) -> None:
    """Check a definition's key, type and options (a select needs options; other types keep none)."""
    if not isinstance(field.key, str) or not KEY_PATTERN.match(field.key):
        raise ValidationError(
            {"key": _("Use letters, digits and underscores (not starting with a digit), at most 64 characters.")}
        )
    require_choice(field.type, FieldType, "type")
    options = field.options if field.options is not None else []
    if not isinstance(options, list) or not all(isinstance(option, str) and option.strip() for option in options):
        raise ValidationError({"options": _("Options are a list of non-empty strings.")})
    if len(options) > MAX_OPTIONS or len(set(options)) != len(options):
        raise ValidationError(
            {"options": _("At most %(MAX_OPTIONS)s options, each once.") % {"MAX_OPTIONS": MAX_OPTIONS}}
        )
    if field.type == FieldType.SELECT and not options:
        raise ValidationError({"options": _("A select field needs at least one option.")})
    field.options = options if field.type == FieldType.SELECT else []
    field.full_clean(exclude=["key", "options"])


def conversation_field_create(
    *,
    key: str,
    label: str,
    type: str = FieldType.TEXT,
    options: list | None = None,
    required_on_resolve: bool = False,
    position: int = 0,
) -> ConversationField:
    """Define a conversation field; its key is unique and cannot change later (values and workflows name it)."""
    field = ConversationField(
        key=key,
        label=(label or "").strip(),
        type=type,
        options=options or [],
        required_on_resolve=bool(required_on_resolve),
        position=position or 0,
    )
    check_definition(field)
    if ConversationField.objects.filter(key=key).exists():
        raise ValidationError({"key": _('A field with the key "%(key)s" already exists.') % {"key": key}})
    field.save()
    return field


def conversation_field_update(*, field: ConversationField, **changes: Any) -> ConversationField:
    """Change a definition's label, type, options, required flag or position. A new type is refused while a
    workflow uses the field (its conditions and steps were written for the old type)."""
    unknown = set(changes) - set(DEFINITION_FIELDS)
    if unknown:
        raise ValidationError({key: "Not a field of a conversation field definition." for key in unknown})
    if "key" in changes and changes["key"] != field.key:
        raise ValidationError({"key": _("The key of a field cannot change; create a new field instead.")})
    if "type" in changes and changes["type"] != field.type:
        refuse_when_used(field.key, "type", "change the type of")
    for name, value in changes.items():
        setattr(field, name, value)
    check_definition(field)
    field.save()
    return field


def conversation_field_delete(*, field: ConversationField) -> None:
    """Delete a definition no workflow uses; the values conversations hold under its key are kept as they are."""
    refuse_when_used(field.key, "key", "delete")
    field.delete()


def refuse_when_used(key: str, error_key: str, verb: str) -> None:
    """A ValidationError on `error_key` naming whatever uses the field `key` (see `register_field_usage`)."""
    users = field_users(key)
    if users:
        raise ValidationError(
            {
                error_key: _(
                    'Cannot %(verb)s the field "%(key)s": it is used by %(value2)s. Change or deactivate those first.'
                )
                % {"verb": verb, "key": key, "value2": ", ".join(users)}
            }
        )


# Values -----------------------------------------------------------------------------------------------------


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _check_text(field: ConversationField, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("Expected text.")
    if len(value) > MAX_TEXT_LENGTH or "\x00" in value:
        raise ValueError(f"At most {MAX_TEXT_LENGTH} characters, no null characters.")
    return value


def _check_number(field: ConversationField, value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        try:
            value = float(value) if any(mark in value for mark in ".eE") else int(value)
        except ValueError:
            raise ValueError("Expected a number.") from None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
        or value in (float("inf"), float("-inf"))
    ):
        raise ValueError("Expected a number.")
    return value


def _check_date(field: ConversationField, value: Any) -> Any:
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except (AttributeError, ValueError):
        raise ValueError("Expected a date as YYYY-MM-DD.") from None


def _check_select(field: ConversationField, value: Any) -> Any:
    if value not in (field.options or []):
        raise ValueError(f"Expected one of: {', '.join(field.options or [])}.")
    return value


def _check_checkbox(field: ConversationField, value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise ValueError("Expected true or false.")
    return value


# One check per type: each returns the value as stored (a number given as text becomes a number) or raises.
VALUE_CHECKS: dict[str, Callable[[ConversationField, Any], Any]] = {
    FieldType.TEXT: _check_text,
    FieldType.NUMBER: _check_number,
    FieldType.DATE: _check_date,
    FieldType.SELECT: _check_select,
    FieldType.CHECKBOX: _check_checkbox,
}


def clean_field_value(field: ConversationField, value: Any) -> Any:
    """The value as stored for this definition (None clears it); a ValidationError naming `fields.<key>`."""
    if _is_empty(value):
        return None
    try:
        return VALUE_CHECKS[field.type](field, value)
    except ValueError as exc:
        raise ValidationError({f"fields.{field.key}": str(exc)}) from None


def clean_field_values(values: Any) -> dict[str, Any]:
    """Every value checked against its definition; unknown keys and wrong types are errors naming `fields.<key>`."""
    if not isinstance(values, dict):
        raise ValidationError({"fields": _("Expected a JSON object of field keys and values.")})
    definitions = {field.key: field for field in ConversationField.objects.filter(key__in=list(values))}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key not in definitions:
            errors[f"fields.{key}"] = f'Unknown field "{key}". Define it under conversation fields first.'
            continue
        try:
            cleaned[key] = clean_field_value(definitions[key], value)
        except ValidationError as exc:
            errors.update({name: messages[0] for name, messages in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return cleaned


def conversation_set_fields(*, conversation: Conversation, fields: dict, actor=None, depth: int = 0) -> Conversation:
    """Set field values (None or "" clears one); record `conversation.fields_changed` with the keys that really
    changed, their old and new values. No event when nothing changed."""
    cleaned = clean_field_values(fields)
    with transaction.atomic():
        lock_conversation(conversation)
        current = dict(conversation.fields or {})
        old, new = {}, {}
        for key, value in cleaned.items():
            if current.get(key) == value:
                continue
            old[key], new[key] = current.get(key), value
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        if not new:
            return conversation
        conversation.fields = current
        conversation.save(update_fields=["fields", "updated_at"])
        record_event(
            type=EventType.FIELDS_CHANGED,
            conversation=conversation,
            payload=payloads.fields_changed(old=old, new=new, actor=actor),
            depth=depth,
        )
    return conversation


def missing_required_on_resolve(conversation: Conversation) -> list[str]:
    """Keys of the fields required on resolve that the conversation leaves empty."""
    values = conversation.fields or {}
    required = ConversationField.objects.filter(required_on_resolve=True).values_list("key", flat=True)
    return [key for key in required if _is_empty(values.get(key))]


def check_can_resolve(conversation: Conversation) -> None:
    """Refuse resolving while a `required_on_resolve` field is empty: the error names `fields.<key>`."""
    missing = missing_required_on_resolve(conversation)
    if missing:
        raise ValidationError(
            {f"fields.{key}": "This field is required before the conversation is resolved." for key in missing}
        )

"""The rows the API's create path writes (docs/operations.md "Performance of the API"), with statements built once.

Opening a conversation and posting a message write the same few rows every time: the conversation, the message, the
event, and the conversation's counters. Building each INSERT or UPDATE with the ORM costs more Python than SQLite
spends running it, and on SQLite that Python runs while the write lock is held. `insert_row` and `update_row` run
the ORM's own statements compiled once per process (`conversations.statements`), with the values prepared by the
model fields as `Model.save` prepares them. A model with `pre_save` or `post_save` receivers (a host project may
connect some) is saved with `Model.save` instead, so its receivers still run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import DatabaseError, router
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

from conversations.models import Conversation, Event, Message
from conversations.statements import Insert, Statement

_M = TypeVar("_M", bound=Model)

_INSERTS: dict[type[Model], Insert] = {model: Insert(model) for model in (Conversation, Message, Event)}

# The counters and timestamps a posted message may move (services/messages.py), by primary key; it writes only those
# it moved (an unchanged indexed column named in a SET still costs SQLite an index write).
MESSAGE_COUNTER_FIELDS = (
    "sentiment",
    "customer_message_count",
    "last_customer_message_at",
    "last_agent_message_at",
    "first_response_at",
    "last_agent_reply_at",
    "updated_at",
)
_UPDATES: dict[tuple[type[Model], tuple[str, ...]], Statement] = {}


def _has_receivers(model: type[Model]) -> bool:
    return pre_save.has_listeners(model) or post_save.has_listeners(model)


def insert_row(obj: _M) -> _M:
    """`obj.save()` for a new row of Conversation, Message or Event: the same INSERT and the same state afterwards
    (primary key, `auto_now` timestamps, `_state`), without building the statement again."""
    model = type(obj)
    insert = _INSERTS.get(model)
    if insert is None or _has_receivers(model) or not obj._state.adding:
        obj.save()
        return obj
    obj._prepare_related_fields_for_save(operation_name="save")
    insert.create([obj], using=router.db_for_write(model, instance=obj))
    return obj


def _update_statement(model: type[Model], fields: tuple[str, ...]) -> Statement:
    key = (model, fields)
    statement = _UPDATES.get(key)
    if statement is None:
        statement = _UPDATES[key] = Statement(
            model,
            lambda slot: (
                model._default_manager.filter(pk=slot("pk", model._meta.pk.name)),
                {name: slot(name, name) for name in fields},
            ),
            update=True,
        )
    return statement


def update_row(obj: Model, fields: Sequence[str]) -> None:
    """`obj.save(update_fields=fields)` for a row that exists (e.g. locked by the caller): the same UPDATE, with
    `auto_now` fields stamped as `save` stamps them; a row that is gone is the same DatabaseError."""
    model = type(obj)
    if _has_receivers(model) or model._meta.parents:
        obj.save(update_fields=fields)
        return
    meta = model._meta
    wanted = set(fields)
    fields = tuple(field.name for field in meta.concrete_fields if field.name in wanted)  # the ORM's column order
    if len(fields) != len(wanted):
        obj.save(update_fields=wanted)  # a name that is no concrete field: the ORM's own error
        return
    values = {name: meta.get_field(name).pre_save(obj, False) for name in fields}
    using = router.db_for_write(model, instance=obj)
    if not _update_statement(model, fields).execute(using, pk=obj.pk, **values):
        raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.adding, obj._state.db = False, using

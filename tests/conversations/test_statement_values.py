"""Compiled statements send a plain value (a text, a whole number, a boolean, a float) as it is only where the
field's own preparation would hand back that very value (conversations.statements.unchanged_type); every other value
is prepared by its field, so the parameters are the ORM's."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.utils.safestring import mark_safe

from conversations import clock
from conversations.models import Conversation, Event, Message
from conversations.statements import Insert, unchanged_type


def orm_params(insert: Insert, obj) -> list:
    """The parameters `bulk_create` would send for `obj` once inserted (each field's `get_db_prep_save` of the value
    `pre_save` left on it: the `auto_now` timestamps as stamped)."""
    values = []
    for field in insert.fields():
        value = getattr(obj, field.attname)
        values.append(None if value is None else field.get_db_prep_save(value, connection))
    return values


@pytest.mark.django_db
def test_the_compiled_insert_sends_the_orms_parameters(contact):
    sent = []

    def catch(execute, sql, params, many, context):
        if sql.startswith("INSERT"):
            sent.append(list(params))
        return execute(sql, params, many, context)

    conversation = Conversation(
        contact=contact, channel="email", subject=mark_safe("Safe <b>text</b>"), priority="high", sentiment=0.25
    )
    with connection.execute_wrapper(catch):
        Insert(Conversation).create([conversation])
        message = Message(conversation=conversation, sender_type="customer", body="Hello", internal=True)
        Insert(Message).create([message])
        event = Event(type="x.y", occurred_at=clock.now(), conversation=conversation, contact=contact, payload={"a": 1})
        Insert(Event).create([event])
    for insert, obj, params in zip(
        (Insert(Conversation), Insert(Message), Insert(Event)), (conversation, message, event), sent, strict=True
    ):
        expected = orm_params(insert, obj)
        assert len(params) == len(expected)
        for got, want in zip(params, expected, strict=True):
            assert type(got) is type(want)
            assert getattr(got, "obj", got) == getattr(want, "obj", want)  # psycopg's Jsonb wraps its value


@pytest.mark.django_db
def test_only_exact_plain_fields_skip_their_preparation():
    assert unchanged_type(Conversation._meta.get_field("subject"), connection, True) is str
    assert unchanged_type(Conversation._meta.get_field("contact"), connection, True) in (int, None)
    for name in ("created_at", "fields"):  # a timestamp and a JSON value are always prepared
        assert unchanged_type(Conversation._meta.get_field(name), connection, True) is None

    class Shouting(models.CharField):
        def get_prep_value(self, value):
            return super().get_prep_value(value).upper()

    field = Shouting(max_length=10)
    field.set_attributes_from_name("shout")
    assert unchanged_type(field, connection, True) is None  # a subclass prepares its own way

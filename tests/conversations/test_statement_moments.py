"""Compiled statements write a moment in UTC as its text only where the field's own preparation gives that very text
(conversations.statements.utc_as_text: SQLite in UTC); a moment in another zone, and every moment on PostgreSQL, is
prepared by its field, so the parameters stay the ORM's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from conversations.models import Conversation, Event
from conversations.statements import Insert, Statement, utc_as_text

BERLIN_SUMMER = dt.timezone(dt.timedelta(hours=2))


def sent_params(action) -> list[list]:
    sent: list[list] = []

    def catch(execute, sql, params, many, context):
        sent.append(list(params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(catch):
        action()
    return sent


@pytest.mark.django_db
def test_moments_in_utc_and_in_another_zone_are_sent_as_the_orm_prepares_them(conversation):
    moments = [
        dt.datetime(2026, 7, 1, 9, 30, 15, 250000, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 1, 9, 30, 15, tzinfo=dt.UTC),  # no fraction of a second
        dt.datetime(2026, 7, 1, 11, 30, 15, 250000, tzinfo=BERLIN_SUMMER),
    ]
    field = Event._meta.get_field("occurred_at")
    events = [Event(type="x.y", occurred_at=moment, conversation=conversation, payload={}) for moment in moments]
    (params,) = sent_params(lambda: Insert(Event).create(events))
    position = Insert(Event).fields().index(field)
    width = len(Insert(Event).fields())
    for index, moment in enumerate(moments):
        assert params[index * width + position] == field.get_db_prep_save(moment, connection)
    assert Event.objects.filter(occurred_at=moments[0]).count() == 2  # 09:30:15.25 UTC, twice (one given in +02:00)


@pytest.mark.django_db
def test_the_compiled_update_prepares_its_moments_as_the_orm_does(conversation):
    update = Statement(
        Conversation,
        lambda slot: (Conversation.objects.filter(pk=slot("pk", "id")), {"updated_at": slot("at", "updated_at")}),
        update=True,
    )
    field = Conversation._meta.get_field("updated_at")
    for moment in (dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC), dt.datetime(2026, 7, 1, 11, 0, tzinfo=BERLIN_SUMMER)):
        (params,) = sent_params(lambda moment=moment: update.execute(pk=conversation.pk, at=moment))
        assert params[0] == field.get_db_prep_save(moment, connection)
        conversation.refresh_from_db()
        assert conversation.updated_at == moment


@pytest.mark.django_db
def test_only_an_exact_datetime_field_is_written_as_text_and_only_where_the_backend_does():
    created_at = Conversation._meta.get_field("created_at")
    assert utc_as_text(created_at, connection, True) is (connection.vendor == "sqlite")
    assert utc_as_text(Conversation._meta.get_field("subject"), connection, True) is False

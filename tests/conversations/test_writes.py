"""The create path's rows written with statements built once (conversations.writes): the same rows, the same state
afterwards, and `Model.save` (with its signals) whenever a receiver listens."""

import pytest
from django.db import DatabaseError, connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.models import Conversation, Event, Message
from conversations.writes import MESSAGE_COUNTER_FIELDS, insert_row, update_row


@pytest.mark.django_db
def test_a_conversation_opened_reads_back_as_written(contact):
    conversation = services.conversation_open(contact=contact, channel="email", subject="Refund", priority="high")
    assert conversation.pk is not None and not conversation._state.adding
    stored = Conversation.objects.get(pk=conversation.pk)
    for field in Conversation._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(conversation, field.attname), field.name
    event = Event.objects.get(conversation=conversation)
    assert event.type == "conversation.created" and event.contact_id == contact.pk


@pytest.mark.django_db
def test_a_message_moves_the_counters_with_one_update(conversation):
    before = Conversation.objects.get(pk=conversation.pk).updated_at
    with CaptureQueriesContext(connection) as captured:
        message = services.message_create(
            conversation=services.conversation_ref(conversation.pk), body="My invoice is wrong", sender_type="customer"
        )
    updates = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.customer_message_count == 1 and stored.last_customer_message_at is not None
    assert stored.updated_at > before
    for name in MESSAGE_COUNTER_FIELDS:  # what the service holds in memory is what was written
        assert getattr(stored, name) == getattr(message.conversation, name), name
    assert Message.objects.get(pk=message.pk).body == "My invoice is wrong"


@pytest.mark.django_db
def test_receivers_of_save_signals_still_run(contact):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((sender.__name__, created))

    for model in (Conversation, Message, Event):
        post_save.connect(receiver, sender=model, weak=False)
    try:
        conversation = services.conversation_open(contact=contact, channel="email")
        services.message_create(conversation=conversation, body="Hello", sender_type="customer")
    finally:
        for model in (Conversation, Message, Event):
            post_save.disconnect(receiver, sender=model)
    assert ("Conversation", True) in seen and ("Message", True) in seen and ("Event", True) in seen
    assert ("Conversation", False) in seen  # the counters' update_fields save


@pytest.mark.django_db
def test_updating_a_row_that_is_gone_is_the_orms_error(conversation):
    Conversation.objects.filter(pk=conversation.pk).delete()
    with pytest.raises(DatabaseError):
        update_row(conversation, MESSAGE_COUNTER_FIELDS)


@pytest.mark.django_db
def test_an_unsaved_relation_is_refused_as_save_refuses_it(contact):
    conversation = Conversation(contact=contact, channel="email")
    with pytest.raises(ValueError):
        insert_row(Event(type="conversation.created", conversation=conversation, contact=contact, payload={}))

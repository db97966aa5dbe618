import pytest
from django.core.exceptions import ValidationError

from conversations import services
from conversations.models import Event


def test_customer_message_records_event_and_sentiment(conversation):
    message = services.message_create(
        conversation=conversation, body="Thank you, this is great!", sender_type="customer"
    )
    event = Event.objects.filter(type="message.created").get()
    assert event.payload["message_id"] == message.pk
    assert event.depth == 0
    conversation.refresh_from_db()
    assert conversation.sentiment > 0.7
    assert conversation.customer_message_count == 1


def test_invalid_status_writes_no_event(conversation):
    before = Event.objects.count()
    with pytest.raises(ValidationError):
        services.conversation_change_status(conversation=conversation, status="bogus")
    assert Event.objects.count() == before

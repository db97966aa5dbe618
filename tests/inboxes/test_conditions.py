"""`message.has_attachments` in a run's context and in condition validation (docs/channels.md)."""

import pytest

from conversations import services
from conversations.choices import SenderType
from workflows.engine import conditions
from workflows.engine.context import BatchReader, build_context

pytestmark = pytest.mark.django_db

HAS_FILES = {"all": [{"field": "message.has_attachments", "op": "eq", "value": True}]}


def test_has_attachments_is_known_and_evaluated(conversation):
    with_file = services.message_create(
        conversation=conversation,
        body="Photo attached",
        sender_type=SenderType.CUSTOMER,
        files=[("a.jpg", b"jpg", "image/jpeg")],
    )
    without = services.message_create(conversation=conversation, body="No photo", sender_type=SenderType.CUSTOMER)
    assert conditions.validate(HAS_FILES) == []
    events = {
        message.pk: conversation.events.get(type="message.created", payload__message_id=message.pk)
        for message in (with_file, without)
    }
    assert conditions.evaluate(HAS_FILES, build_context(events[with_file.pk])) is True
    assert conditions.evaluate(HAS_FILES, build_context(events[without.pk])) is False
    reader = BatchReader(list(events.values()))
    assert [reader.message(events[pk])["has_attachments"] for pk in (with_file.pk, without.pk)] == [True, False]

"""Two writers changing one conversation at the same time lose nothing (the row lock in `conversations.services.conversations.lock_conversation`).

These need real concurrency between database connections, so they are marked `postgres`: skipped on SQLite and
run by the PostgreSQL pass of `make test`. Each thread uses its own connection and commits for real.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import transaction

from conversations import services
from conversations.models import Conversation, Message
from tests.support.concurrency import run_in_threads, wait_until_another_session_waits_for_a_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def customer_message(conversation_id: int, body: str) -> None:
    services.message_create(
        conversation=Conversation.objects.get(pk=conversation_id), body=body, sender_type="customer"
    )


def test_second_writer_waits_and_sees_the_first_writers_change(contact):
    conversation = services.conversation_open(contact=contact, channel="email", subject="Race")
    first_has_written = threading.Event()

    def first_writer() -> None:
        with transaction.atomic():
            customer_message(conversation.pk, "Thank you, that is great!")
            first_has_written.set()
            wait_until_another_session_waits_for_a_lock()

    def second_writer() -> None:
        assert first_has_written.wait(timeout=10)
        customer_message(conversation.pk, "Still broken, this is awful.")

    run_in_threads(first_writer, second_writer)
    conversation.refresh_from_db()
    scores = list(Message.objects.filter(conversation=conversation).values_list("sentiment", flat=True))
    assert conversation.customer_message_count == 2
    assert conversation.sentiment == pytest.approx(sum(scores) / 2, abs=1e-3)


def test_many_writers_keep_every_message_counted(contact):
    conversation = services.conversation_open(contact=contact, channel="email", subject="Busy")
    writers, messages_each = 4, 5

    def writer(number: int) -> Callable[[], None]:
        return lambda: [
            customer_message(conversation.pk, f"Writer {number}, message {i}") for i in range(messages_each)
        ]

    run_in_threads(*(writer(n) for n in range(writers)))
    conversation.refresh_from_db()
    assert conversation.customer_message_count == writers * messages_each == conversation.messages.count()

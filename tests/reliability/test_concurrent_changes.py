"""Two writers changing one conversation at the same time lose nothing (the row lock in `conversations.services.conversations.lock_conversation`).

These need real concurrency between database connections, so they are marked `postgres`: skipped on SQLite and
run by the PostgreSQL pass of `make test`. Each thread uses its own connection and commits for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from conversations import services
from conversations.models import Conversation, Message

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(*targets: Callable[[], None]) -> None:
    """Run each target in its own thread (own DB connection) and re-raise the first error any of them hit."""
    errors: list[BaseException] = []

    def wrapped(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrapped, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    if errors:
        raise errors[0]


def wait_until_another_session_waits_for_a_lock(timeout: float = 10.0) -> None:
    """Block until some other connection of this database is waiting for a lock (the second writer)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # pg_locks is live; pg_stat_activity would be a snapshot frozen for the rest of this transaction.
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second writer never waited for the first one's lock")


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

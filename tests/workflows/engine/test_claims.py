"""Claim before matching (workflows/engine/claims.py): a drain takes a batch of events before it reads and matches
them, so concurrent drains never read each other's batches; an expired or released claim is taken again."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from conversations import clock, services
from conversations.events import wakeups_suppressed
from conversations.models import Event
from workflows.engine import claims
from workflows.engine.drain import drain_events
from workflows.models import WorkflowRun


def record_messages(conversation, count: int) -> list:
    with wakeups_suppressed():  # the test queue would drain them at once
        for n in range(count):
            services.message_create(conversation=conversation, body=f"Question {n}", sender_type="customer")
    return list(Event.objects.filter(type="message.created").order_by("occurred_at").values_list("pk", flat=True))


def test_two_claims_take_disjoint_batches_oldest_first(conversation):
    Event.objects.update(dispatched_at=clock.now())
    ids = record_messages(conversation, 5)
    first = claims.claim_oldest(3)
    second = claims.claim_oldest(3)
    assert first == ids[:3] and second == ids[3:]
    assert claims.claim_oldest(3) == []
    assert claims.claim_events(ids) == []  # every one is held


def test_an_expired_claim_is_taken_again(conversation):
    Event.objects.update(dispatched_at=clock.now())
    ids = record_messages(conversation, 2)
    assert claims.claim_oldest(10) == ids
    Event.objects.filter(pk=ids[0]).update(claimed_until=clock.now() - dt.timedelta(seconds=1))
    assert claims.claim_oldest(10) == ids[:1]


def test_a_released_claim_is_free_at_once(conversation):
    Event.objects.update(dispatched_at=clock.now())
    ids = record_messages(conversation, 2)
    claims.claim_oldest(10)
    claims.release([ids[1]])
    assert claims.claim_events(ids) == [ids[1]]


def test_a_drain_leaves_the_events_another_worker_claimed(conversation, make_workflow):
    workflow = make_workflow(
        "message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}], {"sender_types": ["customer"]}
    )
    Event.objects.update(dispatched_at=clock.now())
    ids = record_messages(conversation, 3)
    held = claims.claim_events(ids[:1])  # another worker holds the oldest
    drain_events(budget_seconds=0.3)
    assert sorted(WorkflowRun.objects.filter(workflow=workflow).values_list("event_id", flat=True)) == sorted(ids[1:])
    assert Event.objects.get(pk=held[0]).dispatched_at is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_match_every_event_once_and_lose_no_claim(contact, make_workflow):
    """Four drains at once over one backlog: every event is read and matched by one of them only."""
    from workflows.engine import dispatcher

    workflow = make_workflow(
        "message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}], {"sender_types": ["customer"]}
    )
    conversation = services.conversation_open(contact=contact, channel="email", subject="Concurrent")
    Event.objects.update(dispatched_at=clock.now())
    ids = record_messages(conversation, 40)
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is not shared between threads")
    matched, original = [], dispatcher._match_batch

    def counting(events, reader):
        matched.extend(event.pk for event in events)
        return original(events, reader)

    lost_before = claims.stats.lost_claims
    dispatcher._match_batch = counting
    try:

        def drain():
            try:
                drain_events(budget_seconds=5)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=drain) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        dispatcher._match_batch = original
    message_matches = [event_id for event_id in matched if event_id in set(ids)]
    assert sorted(message_matches) == sorted(ids)  # each message event read and matched exactly once
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 40
    assert claims.stats.lost_claims == lost_before


def test_an_idle_look_is_one_read_and_claims_nothing(conversation):
    from django.test.utils import CaptureQueriesContext

    Event.objects.update(dispatched_at=clock.now())
    ids = record_messages(conversation, 2)
    claims.claim_events(ids)  # another worker holds both
    with CaptureQueriesContext(connection) as captured:
        assert claims.claim_oldest(10) == []
    assert len(captured.captured_queries) == 1 and captured.captured_queries[0]["sql"].startswith("SELECT")


def test_events_behind_a_full_look_of_skipped_ones_are_still_claimed(conversation, monkeypatch):
    Event.objects.update(dispatched_at=clock.now())
    ids = record_messages(conversation, 4)
    monkeypatch.setattr(claims, "PEEK", 2)
    claims._FREE_EVENTS.compiled.clear()  # the look is compiled with its size
    try:
        assert claims.peek_free(set(ids[:2])) == ([], False)  # the look saw only skipped events, and was full
        assert claims.claim_oldest(10, skip=set(ids[:2])) == ids[2:]
        assert claims.claim_oldest(10, skip=set(ids[:2])) == []
    finally:
        monkeypatch.undo()
        claims._FREE_EVENTS.compiled.clear()

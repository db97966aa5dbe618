"""With the ORM broker, an event committed while a wake-up is queued and not yet taken queues no second one: the
drain the queued one starts finds it (conversations/events.py `_wake_up_pending`). A wake-up a cluster has taken, a
queued task of another kind, or a forced wake-up do not count as pending; and nothing is lost: the drain dispatches
every event the skipped wake-ups stood for. On SQLite the queue row is written in a transaction of its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.tasks import async_task

from conversations import events, services
from conversations.models import Event
from workflows.tasks import dispatch_event_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch):
    """As in production: a wake-up only queues a task (ORM broker); every wake-up window has passed."""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(events, "WAKE_UP_WINDOW_SECONDS", 0)

    def wake_ups() -> int:
        return OrmQ.objects.count()

    return wake_ups


def record(contact, n: int) -> Event:
    """A conversation opened through its service: one event, committed, then its wake-up."""
    conversation = services.conversation_open(contact=contact, channel="email", subject=f"Question {n}")
    return Event.objects.filter(conversation=conversation).get()


def taken_by_a_cluster() -> None:
    """What django-q2's ORM broker does when a cluster dequeues a task: lock it until `retry` from now."""
    OrmQ.objects.update(lock=timezone.now() + dt.timedelta(seconds=Conf.RETRY))


def test_a_burst_queues_one_wake_up_and_its_drain_dispatches_every_event(queued, contact):
    record(contact, 0)
    assert queued() == 1
    for n in range(1, 5):
        record(contact, n)
    assert queued() == 1  # the first wake-up is still waiting for a worker: nothing more queued
    first = Event.objects.order_by("occurred_at").first()
    dispatch_event_task(str(first.pk))
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_a_wake_up_a_cluster_took_does_not_count(queued, contact):
    record(contact, 0)
    taken_by_a_cluster()
    record(contact, 1)
    assert queued() == 2  # the drain of the taken one may have looked already: this event needs its own


def test_a_queued_task_of_another_kind_does_not_count(queued, contact):
    async_task("workflows.tasks.execute_run_task", 0, group="runs")
    record(contact, 0)
    assert queued() == 2


def test_a_forced_wake_up_is_always_queued(queued, contact):
    event = record(contact, 0)
    assert queued() == 1
    events.enqueue_event(event.pk, force=True)
    assert queued() == 2


def test_on_sqlite_the_wake_up_is_queued_in_a_transaction_of_its_own(queued, contact):
    """Its BEGIN waits for the write lock in short polls and announces the wait to the workers' run groups
    (conversations/sqlite_lock.py), where an INSERT in autocommit would sleep in SQLite's busy handler."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock")
    event = record(contact, 0)
    with CaptureQueriesContext(connection) as queries:
        events.enqueue_event(event.pk, force=True)
    statements = [query["sql"] for query in queries.captured_queries]
    assert statements[0].startswith("BEGIN")
    assert statements[1].startswith('INSERT INTO "django_q_ormq"')
    assert queued() == 2


def test_a_drain_looks_for_events_as_long_as_the_wake_up_window_lets_them_go(queued, monkeypatch):
    """A process that woke a worker queues no wake-up for the next WAKE_UP_WINDOW_SECONDS of events: the drain keeps
    looking that long. The in-process queue wakes a drain for every event, so there it looks as long as before."""
    monkeypatch.setattr(events, "WAKE_UP_WINDOW_SECONDS", 1.0)
    assert events.drain_look_seconds() == 1.0
    monkeypatch.setattr(Conf, "SYNC", True)
    assert events.drain_look_seconds() == events.SYNC_DRAIN_LOOK_SECONDS == 0.2

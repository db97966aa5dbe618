"""The drain gate (workflows/engine/drain_gate.py): on a SQLite file one wake-up drains at a time while messages
trickle in; a wake-up that finds a drain running makes it drain again instead of draining beside it, joins it when a
backlog waits, and nothing announced is ever left undrained."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from conversations import clock
from conversations.events import wakeups_suppressed
from conversations.models import Event
from tests.support.runs import customer_message
from workflows.engine import claims, drain_gate
from workflows.models import WorkflowRun


def sqlite_file(tmp_path):
    return SimpleNamespace(vendor="sqlite", settings_dict={"NAME": str(tmp_path / "db.sqlite3")})


class Drains:
    """A drain standing in for `drain.drain_events`: records its calls, returns the runs it is told to."""

    def __init__(self, *results: int, during=None) -> None:
        self.results, self.during, self.calls = list(results), during, []

    def __call__(self, event_id, budget):
        self.calls.append(event_id)
        if self.during is not None and len(self.calls) == 1:
            self.during()
        return self.results.pop(0)


def gated(drains, tmp_path, event_id="e1", **kwargs):
    kwargs.setdefault("sleep", lambda seconds: None)
    return drain_gate.drain_gated(drains, event_id, 30, db=sqlite_file(tmp_path), **kwargs)


def in_another_worker(target):
    """Run `target` in another thread (its own open gate file, as another worker process has) and wait for it."""
    result = []
    thread = threading.Thread(target=lambda: result.append(target()))
    thread.start()
    thread.join(10)
    return result[0]


def test_without_a_gate_file_the_drain_runs_as_before():
    drains = Drains(4)
    for db in (SimpleNamespace(vendor="postgresql", settings_dict={"NAME": "helpdesk"}), None):
        drains.results = [4]
        assert drain_gate.drain_gated(drains, "e1", 30, db=db) == 4  # the tests' database is in memory
    assert drains.calls == ["e1", "e1"]


def test_a_wake_up_while_another_drains_pokes_it_and_returns_and_the_holder_drains_again(tmp_path):
    second = Drains(7)
    pauses = []
    holder = Drains(
        3, 2, during=lambda: woken.append(in_another_worker(lambda: gated(second, tmp_path, "e2", join=lambda: False)))
    )
    woken = []
    assert gated(holder, tmp_path, pause_seconds=0.2, sleep=pauses.append) == 5
    assert woken == [0] and second.calls == []  # it did not drain beside the holder
    assert holder.calls == ["e1", None]  # the holder looked again after the poke, for every event
    assert len(pauses) == 1 and 0.19 < pauses[0] <= 0.2  # the next drain starts a poll interval after the last


def test_an_unpoked_drain_drains_once_and_releases_the_gate(tmp_path):
    first, later = Drains(3), Drains(1)
    assert gated(first, tmp_path) == 3 and first.calls == ["e1"]
    assert in_another_worker(lambda: gated(later, tmp_path, "e2")) == 1  # the gate is free again
    assert later.calls == ["e2"]


def test_a_failed_drain_releases_the_gate(tmp_path):
    def broken(event_id, budget):
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        gated(broken, tmp_path)
    after = Drains(2)
    assert in_another_worker(lambda: gated(after, tmp_path, "e2")) == 2


def test_a_wake_up_during_a_backlog_joins_the_drain(tmp_path):
    second = Drains(7)
    holder = Drains(
        3, 0, during=lambda: woken.append(in_another_worker(lambda: gated(second, tmp_path, "e2", join=lambda: True)))
    )
    woken = []
    gated(holder, tmp_path)
    assert woken == [7] and second.calls == ["e2"]


def test_a_backlog_is_a_full_look_of_free_events(conversation):
    def record(count):
        Event.objects.bulk_create(
            Event(
                type="message.created", occurred_at=clock.now(), conversation=conversation, contact=conversation.contact
            )
            for _ in range(count)
        )

    record(claims.PEEK - 1 - Event.objects.filter(dispatched_at__isnull=True).count())
    assert not drain_gate.backlog_waiting()
    record(1)
    assert drain_gate.backlog_waiting()


def test_a_drain_that_fails_after_a_poke_leaves_a_wake_up_for_what_the_poke_announced(
    tmp_path, conversation, make_workflow
):
    make_workflow(
        "message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}], {"sender_types": ["customer"]}
    )
    with wakeups_suppressed():
        customer_message(conversation, "Anyone there?")
    event = Event.objects.get(type="message.created")
    poker = Drains(7)

    def broken(event_id, budget):
        in_another_worker(lambda: gated(poker, tmp_path, "e2", join=lambda: False))
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        gated(broken, tmp_path, event.pk)
    assert poker.calls == []
    # the wake-up (the test queue runs it at once) dispatched the waiting message
    assert WorkflowRun.objects.filter(status="succeeded").count() == 1
    assert Event.objects.get(pk=event.pk).dispatched_at is not None

"""Draining (docs/operations.md): one woken worker dispatches every undispatched event, oldest first, so throughput is
not bound to one queue message per event; concurrent drains never start a run twice; the runs of one event share the
context the dispatcher read, but never a stale one."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.models import Event, Message
from tests.support.runs import customer_message
from workflows import services as workflow_services
from workflows.engine.drain import drain_events
from workflows.models import WorkflowRun
from workflows.steps.registry import StepOutcome, StepType, step_types
from workflows.tasks import dispatch_event_task

GREETING = "Hello {{ contact.name }}"


def message_events() -> list[Event]:
    return list(Event.objects.filter(type="message.created").order_by("occurred_at"))


def greeting_workflow(make_workflow):
    return make_workflow(
        "message.created", [{"type": "auto_reply", "config": {"text": GREETING}}], {"sender_types": ["customer"]}
    )


def test_one_task_dispatches_every_pending_event(conversation, make_workflow):
    workflow = greeting_workflow(make_workflow)
    for n in range(5):  # inside the test transaction no queue message fires: all five wait
        customer_message(conversation, f"Question {n}")
    first, *others = message_events()
    assert dispatch_event_task(str(others[-1].pk)) == 5  # any one message serves all
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    runs = WorkflowRun.objects.filter(workflow=workflow)
    assert sorted(runs.values_list("event_id", flat=True)) == sorted(e.pk for e in [first, *others])
    assert set(runs.values_list("status", flat=True)) == {"succeeded"}
    # The later queue messages of the drained events find nothing to do.
    for event in [first, *others]:
        assert dispatch_event_task(str(event.pk)) == 0
    assert runs.count() == 5
    assert Message.objects.filter(conversation=conversation, sender_type="ai").count() == 5


def test_drain_takes_the_oldest_events_first_and_stops_when_its_budget_is_spent(conversation, make_workflow):
    make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}])
    for n in range(3):
        customer_message(conversation, f"Question {n}")
    oldest = message_events()[0]
    assert drain_events(budget_seconds=0) == 0  # nothing but the event it was woken for, and there is none
    assert drain_events(oldest.pk, budget_seconds=0) == 1
    assert [e.dispatched_at is not None for e in message_events()] == [True, False, False]
    assert drain_events(budget_seconds=60) == 2
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_runs_of_one_event_see_what_earlier_runs_changed(conversation, make_workflow):
    """The second run reuses no context read before the first run's side effects."""
    make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["first"]}}], name="A tagger")
    reader = make_workflow(
        "message.created",
        [
            {"type": "condition", "config": {"field": "conversation.tags", "op": "contains", "value": "first"}},
            {"type": "add_tag", "config": {"tags": ["second"]}},
        ],
        name="B reader",
    )
    customer_message(conversation)
    event = message_events()[-1]
    assert dispatch_event_task(str(event.pk)) == 2
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["first", "second"]
    assert WorkflowRun.objects.get(workflow=reader).status == "succeeded"


def test_an_event_no_trigger_matches_never_reads_the_conversation(conversation, make_workflow):
    make_workflow(
        "message.created",
        [{"type": "add_tag", "config": {"tags": ["refund"]}}],
        {"sender_types": ["customer"], "content_contains": ["refund"]},
    )
    customer_message(conversation, "Where is my parcel?")
    event = message_events()[-1]
    with CaptureQueriesContext(connection) as queries:
        assert dispatch_event_task(str(event.pk)) == 0
    sql = " ".join(query["sql"] for query in queries)
    assert 'FROM "conversations_message"' in sql  # the body was read to match it
    assert "tags" not in sql and "COUNT(" not in sql.upper()
    assert Event.objects.get(pk=event.pk).dispatched_at is not None
    customer_message(conversation, "I want a refund")
    assert dispatch_event_task(str(message_events()[-1].pk)) == 1
    assert list(conversation.tags.values_list("name", flat=True)) == ["refund"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_start_each_run_once(contact, make_workflow, monkeypatch):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "shared-cache in-memory SQLite refuses a second writer at once (no busy wait); run the "
            "PostgreSQL pass: python -m tests.infra.pgrun pytest tests/workflows/engine/test_drain.py"
        )
    monkeypatch.setattr("conversations.events.enqueue_event", lambda event_id: None)  # messages still queued
    workflow = make_workflow(
        "message.created",
        [
            {"type": "add_tag", "config": {"tags": ["seen"]}},
            {"type": "auto_reply", "config": {"text": GREETING}},
        ],
        {"sender_types": ["customer"]},
    )
    conversations = [
        services.conversation_open(contact=contact, channel="email", subject=f"Case {n}") for n in range(20)
    ]
    for conversation in conversations:
        customer_message(conversation)
    events = message_events()
    assert len(events) == 20
    started, errors = [], []

    def drain(event_id) -> None:
        try:
            started.append(dispatch_event_task(str(event_id)))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain, args=(event.pk,)) for event in (events[0], events[-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(started) == 20  # together: one run per event, whichever drain claimed it
    runs = WorkflowRun.objects.filter(workflow=workflow)
    assert sorted(runs.values_list("event_id", flat=True)) == sorted(event.pk for event in events)
    assert set(runs.values_list("status", flat=True)) == {"succeeded"}
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    for conversation in conversations:
        assert Message.objects.filter(conversation=conversation, sender_type="ai").count() == 1


def test_an_event_that_fails_does_not_stall_the_drain(conversation, make_workflow, monkeypatch):
    make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}])
    for n in range(3):
        customer_message(conversation, f"Question {n}")
    broken, *fine = message_events()
    from workflows.engine import dispatcher

    real_matches = dispatcher._matches

    def matches(event, candidates, data):
        if str(event.pk) == str(broken.pk):
            raise RuntimeError("broken event")
        return real_matches(event, candidates, data)

    monkeypatch.setattr(dispatcher, "_matches", matches)
    assert drain_events(budget_seconds=60) == 2
    assert [e.dispatched_at is not None for e in message_events()] == [False, True, True]
    monkeypatch.setattr(dispatcher, "_matches", real_matches)
    assert drain_events(budget_seconds=60) == 1  # nothing was lost


class CancelledDuringSegmentStep(StepType):
    """An internal step during which a manager cancels the run from another connection (the web process)."""

    type = "cancelled_during_segment_for_test"
    label = "Cancelled during the segment"

    def execute(self, config, ctx):
        def cancel() -> None:
            try:
                workflow_services.run_cancel(run=WorkflowRun.objects.get(pk=ctx.run.pk))
            finally:
                connection.close()

        canceller = threading.Thread(target=cancel)
        canceller.start()
        canceller.join(timeout=30)
        return StepOutcome()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cancel_during_a_segment_rolls_back_every_step_of_it(contact, make_workflow):
    """Consecutive internal steps commit together, so a cancel that lands while they execute undoes all of them:
    the run stays cancelled with no step recorded and no effect left."""
    with step_types.register_temporarily(CancelledDuringSegmentStep):
        workflow = make_workflow(
            "message.created",
            [
                {"type": "add_tag", "config": {"tags": ["before-cancel"]}},
                {"type": CancelledDuringSegmentStep.type, "config": {}},
                {"type": "add_tag", "config": {"tags": ["after-cancel"]}},
            ],
            {"sender_types": ["customer"]},
        )
        conversation = services.conversation_open(contact=contact, channel="email", subject="Cancel me")
        customer_message(conversation)
        drain_events(budget_seconds=30)
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "cancelled"
    assert not run.steps.exists()
    assert list(conversation.tags.values_list("name", flat=True)) == []


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_events_costs_one_queue_message_and_one_drain_serves_it(contact, make_workflow, monkeypatch):
    """Outside the in-process test queue, a process that just woke a worker lets the events of the wake-up window
    go without a queue message of their own; the drain that message wakes dispatches all of them."""
    from django_q.conf import Conf
    from django_q.models import OrmQ

    from conversations import events

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(events, "WAKE_UP_WINDOW_SECONDS", 3600)  # every write of this test falls in one window
    monkeypatch.setattr(events, "_last_wake_up", [float("-inf")])
    workflow = make_workflow(
        "message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}], {"sender_types": ["customer"]}
    )
    conversation = services.conversation_open(contact=contact, channel="email", subject="Burst")
    for n in range(5):
        customer_message(conversation, f"Question {n}")
    assert OrmQ.objects.count() == 1  # the conversation's event woke a worker; the five messages rode along
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 6
    monkeypatch.setattr(events, "WAKE_UP_WINDOW_SECONDS", 0.2)  # the drain looks this long after its last batch
    assert dispatch_event_task(str(Event.objects.order_by("occurred_at").first().pk)) == 5
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    assert set(WorkflowRun.objects.filter(workflow=workflow).values_list("status", flat=True)) == {"succeeded"}


def test_a_worker_process_yields_the_cpu_to_the_web_once_and_tests_never_do(tmp_path):
    """Worker processes drop to HELPDESK_WORKER_NICENESS (once, however many tasks they run); the in-process test
    queue never renices the process it runs in."""
    import os
    import subprocess
    import sys

    from workflows.tasks import yield_cpu_to_the_web

    before = os.nice(0)
    yield_cpu_to_the_web()  # sync mode (these settings): nothing changes
    assert os.nice(0) == before
    code = (
        "import os, django; django.setup(); from django_q.conf import Conf; Conf.SYNC = False; "
        "from workflows.tasks import yield_cpu_to_the_web as y; y(); y(); print(os.nice(0))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "HELPDESK_WORKER_NICENESS": str(before + 7),
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) == before + 7


def test_a_later_run_sees_a_change_even_when_the_earlier_run_read_again_after_it(conversation, make_workflow):
    """The batch read the conversation to match a trigger filter; the first run tags it, then reads it again for a
    condition. The second run must still see the tag, not the batch's read from before the first run."""
    reads_conversation = {
        "sender_types": ["customer"],
        "conditions": {"all": [{"field": "conversation.status", "op": "neq", "value": "closed"}]},
    }
    make_workflow(
        "message.created",
        [
            {"type": "add_tag", "config": {"tags": ["first"]}},
            {"type": "condition", "config": {"field": "conversation.tags", "op": "contains", "value": "first"}},
        ],
        reads_conversation,
        name="A tagger",
    )
    reader = make_workflow(
        "message.created",
        [
            {"type": "condition", "config": {"field": "conversation.tags", "op": "contains", "value": "first"}},
            {"type": "add_tag", "config": {"tags": ["second"]}},
        ],
        reads_conversation,
        name="B reader",
    )
    customer_message(conversation)
    assert dispatch_event_task(str(message_events()[-1].pk)) == 2
    assert WorkflowRun.objects.get(workflow=reader).status == "succeeded"
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["first", "second"]

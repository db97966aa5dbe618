"""A queue worker's warm-up (workflows/engine/warmup.py): once, when django-q2 spawns the worker, the engine's
statements are compiled and the active workflows' steps loaded, so its first run pays neither; never in the
in-process queue, where `post_spawn` comes with every task."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.signals import post_spawn

from conversations import services
from conversations.events import wakeups_suppressed
from conversations.models import Event
from conversations.statements import forget_compiled_statements
from workflows.engine import versions, warmup
from workflows.engine.drain import drain_batch
from workflows.engine.statements import RUN_ROWS, RUN_SEGMENT_END
from workflows.models import WorkflowRun


def tagging_workflow(make_workflow):
    return make_workflow(
        "message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}], {"sender_types": ["customer"]}
    )


def fresh_worker_state():
    """What a new process starts with: nothing compiled, no version loaded."""
    forget_compiled_statements()
    versions._VERSION_CACHE.clear()


def version_reads_of_a_first_message(contact) -> list[str]:
    conversation = services.conversation_open(contact=contact, channel="email", subject="Warm")
    Event.objects.update(dispatched_at=Event.objects.first().occurred_at)
    with wakeups_suppressed():
        message = services.message_create(conversation=conversation, body="Hello?", sender_type="customer")
    event = Event.objects.get(type="message.created", payload__message_id=message.pk)
    with wakeups_suppressed(), CaptureQueriesContext(connection) as queries:
        drain_batch([event.pk])
    assert WorkflowRun.objects.filter(status="succeeded").count() == 1
    return [query["sql"] for query in queries if "workflowversion" in query["sql"]]


def warmed_first_run(contact, make_workflow) -> tuple[bool, set[int], list[str]]:
    """A fresh worker warmed up: whether the segment end is compiled, the row counts the run-row INSERT is compiled
    for, and the version reads of its first run."""
    tagging_workflow(make_workflow)
    fresh_worker_state()
    warmup.warm_up()
    segment_end = (connection.alias, connection.vendor) in RUN_SEGMENT_END.compiled
    row_counts = {rows for (_alias, _vendor, rows) in RUN_ROWS.compiled}
    return segment_end, row_counts, version_reads_of_a_first_message(contact)


@pytest.mark.django_db(transaction=True)
def test_a_warmed_worker_has_its_statements_compiled_and_reads_no_version_for_its_first_run(contact, make_workflow):
    segment_end, row_counts, version_reads = warmed_first_run(contact, make_workflow)
    assert segment_end
    assert row_counts >= set(range(1, warmup.INSERT_ROWS + 1))
    assert version_reads == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_warmed_worker_on_postgresql_too(contact, make_workflow):
    segment_end, row_counts, version_reads = warmed_first_run(contact, make_workflow)
    assert segment_end
    assert row_counts >= set(range(1, warmup.INSERT_ROWS + 1))
    assert version_reads == []


@pytest.mark.django_db(transaction=True)
def test_a_cold_worker_reads_the_version_on_its_first_run(contact, make_workflow):
    tagging_workflow(make_workflow)
    fresh_worker_state()
    assert len(version_reads_of_a_first_message(contact)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_in_process_queue_does_not_warm_up_on_every_task(make_workflow):
    tagging_workflow(make_workflow)
    fresh_worker_state()
    post_spawn.send(sender="django_q", proc_name="test")  # what django-q2's sync mode sends before each task
    assert not RUN_SEGMENT_END.compiled and not versions._VERSION_CACHE

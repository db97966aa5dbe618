"""Statements built once per process (conversations/statements.py, workflows/engine/statements.py): the SQL is the
ORM's own, checked against the models' fields, rebuilt after a migration; a run costs the same statements as before
(bar savepoints), and a step that raises inside a segment still leaves no partial write."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.models.signals import post_migrate
from django.db.models.sql import InsertQuery
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations import services
from conversations.events import wakeups_suppressed
from conversations.models import Conversation, Event
from conversations.services.conversations import _TAG_NAMES
from conversations.services.locks import _LOCK, lock_conversation
from workflows.engine import statements
from workflows.engine.drain import drain_batch, drain_events
from workflows.models import StepRun, WorkflowRun
from workflows.steps.registry import StepType, step_types

SAVEPOINTS = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.I)


def columns_of(sql: str) -> list[str]:
    return [name.strip() for name in re.search(r"\((.*?)\)\s*VALUES", sql, re.S).group(1).split(",")]


def test_the_step_row_insert_names_every_column_of_the_model(db):
    fields = [field for field in StepRun._meta.concrete_fields if not field.primary_key]
    sql, compiled_fields, _ = statements.STEP_ROWS.sql(connection, [StepRun(run_id=1, position=0, type="add_tag")])
    assert compiled_fields == fields
    assert columns_of(sql) == [connection.ops.quote_name(field.column) for field in fields]


def test_the_compiled_insert_is_the_sql_the_orm_builds_for_one_row(db):
    row = StepRun(run_id=1, position=0, type="add_tag", path="0", input={"tags": ["a"]}, output={})
    fields = statements.STEP_ROWS.fields()
    query = InsertQuery(StepRun)
    query.insert_values(fields, [row])
    compiler = query.get_compiler(connection=connection)
    if connection.features.can_return_columns_from_insert:
        compiler.returning_fields = StepRun._meta.db_returning_fields
    ((orm_sql, _),) = compiler.as_sql()
    assert statements.STEP_ROWS.sql(connection, [row])[0] == orm_sql


def test_the_run_update_sets_the_segment_fields_of_a_running_run_only(db):
    compiled = statements.RUN_SEGMENT_END.for_connection(connection)
    quote = connection.ops.quote_name
    set_part, where_part = compiled.sql.split(" WHERE ")
    for name in statements.SEGMENT_FIELDS:
        assert f"{quote(WorkflowRun._meta.get_field(name).column)} = %s" in set_part
    assert quote("status") in where_part and quote("id") in where_part
    assert "running" in [constant for name, constant in compiled.plan if name is None]


def test_a_migration_drops_every_compiled_statement(db, conversation):
    statements.RUN_SEGMENT_END.for_connection(connection)
    with transaction.atomic():
        lock_conversation(conversation)
    assert statements.RUN_SEGMENT_END.compiled and _LOCK.compiled
    config = apps.get_app_config("conversations")
    post_migrate.send(
        sender=config, app_config=config, verbosity=0, interactive=False, using="default", plan=[], apps=apps
    )
    assert not statements.RUN_SEGMENT_END.compiled and not _LOCK.compiled
    with transaction.atomic():  # and the next use builds it again
        assert lock_conversation(Conversation(pk=conversation.pk)).subject == conversation.subject
    assert (connection.alias, connection.vendor) in _LOCK.compiled


def test_the_lock_loads_the_conversation_and_its_contact_in_one_query(conversation):
    stranger = Conversation(pk=conversation.pk)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        lock_conversation(stranger)
        assert stranger.contact.name == conversation.contact.name
    assert len(queries) == 1
    assert stranger.subject == conversation.subject and stranger.created_at == conversation.created_at
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in queries[0]["sql"]


def test_locking_a_conversation_that_is_gone_raises_does_not_exist(db):
    with transaction.atomic(), pytest.raises(Conversation.DoesNotExist):
        lock_conversation(Conversation(pk=987654))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_lock_refuses_to_run_outside_a_transaction_where_rows_lock(conversation):
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite locks the whole database, not rows")
    with pytest.raises(TransactionManagementError):
        _LOCK.instances(pk=conversation.pk)


def test_the_tags_read_returns_the_conversations_own_tags(conversation, contact):
    other = services.conversation_open(contact=contact, channel="email", subject="Other")
    services.conversation_add_tags(conversation=conversation, tags=["billing", "vip"])
    services.conversation_add_tags(conversation=other, tags=["spam"])
    assert sorted(name for (name,) in _TAG_NAMES.rows(pk=conversation.pk)) == ["billing", "vip"]
    services.conversation_add_tags(conversation=conversation, tags=["vip", "late"])
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["billing", "late", "vip"]
    assert Event.objects.filter(conversation=conversation, type="conversation.tags_changed").count() == 2


def three_workflows(make_workflow):
    trigger = {"sender_types": ["customer"]}
    make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["new-message"]}}], trigger)
    make_workflow(
        "message.created",
        [
            {"type": "set_variable", "config": {"name": "topic", "value": "{{ message.body }}"}},
            {"type": "add_tag", "config": {"tags": ["topic-seen"]}},
        ],
        trigger,
    )
    make_workflow("message.created", [{"type": "set_priority", "config": {"priority": "high"}}], trigger)


# What one message costs with three workflows (dispatch, three runs, the events they record), measured before the
# statements were built once: 35 statements besides transaction control. +1 since a `set_priority` inside a segment
# reads the priority alone first (docs/drain_groups.md): the run that changes it pays that read before the lock, every
# later run that finds it set pays that read instead of the lock.
STATEMENTS_PER_MESSAGE = 35 + 1


@pytest.mark.django_db(transaction=True)
def test_a_run_costs_the_same_statements_as_before(contact, make_workflow):
    three_workflows(make_workflow)
    conversation = services.conversation_open(contact=contact, channel="email", subject="Count")
    Event.objects.update(dispatched_at=timezone.now())
    with wakeups_suppressed():  # the test queue would run the drain at once
        message = services.message_create(conversation=conversation, body="Where is my order?", sender_type="customer")
    event = Event.objects.get(type="message.created", payload__message_id=message.pk)
    with wakeups_suppressed(), CaptureQueriesContext(connection) as queries:  # only this batch and its runs
        drain_batch([event.pk])
    data = [
        query["sql"]
        for query in queries
        if not SAVEPOINTS.match(query["sql"])
        and query["sql"].strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
    ]
    assert WorkflowRun.objects.filter(status="succeeded").count() == 3
    # +2: the claim of the batch (one SELECT, one UPDATE), paid once per batch of up to 100 events.
    assert len(data) == STATEMENTS_PER_MESSAGE + 2, "\n".join(data)


class WritesThenRaises(StepType):
    """Tags the conversation, then crashes: its tag must not survive, the step before it must (once)."""

    type = "test_writes_then_raises"
    label = "Writes then raises"
    schema = {"type": "object"}
    internal = True

    def execute(self, config, ctx):
        services.conversation_add_tags(conversation=ctx.conversation, tags=["partial"])
        raise RuntimeError("boom after writing")


@pytest.mark.django_db(transaction=True)
def test_a_step_that_raises_in_a_segment_leaves_no_partial_write_and_the_steps_before_it_once(contact, make_workflow):
    with step_types.register_temporarily(WritesThenRaises):
        workflow = make_workflow(
            "message.created",
            [
                {"type": "add_tag", "config": {"tags": ["before"]}},
                {"type": WritesThenRaises.type, "config": {}},
                {"type": "add_tag", "config": {"tags": ["never"]}},
            ],
            {"sender_types": ["customer"]},
        )
        conversation = services.conversation_open(contact=contact, channel="email", subject="Replay")
        services.message_create(conversation=conversation, body="Hello", sender_type="customer")
        drain_events(budget_seconds=0)
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "failed" and "boom after writing" in run.error
    assert [(step.position, step.status) for step in run.steps.order_by("position")] == [
        (0, "succeeded"),
        (1, "failed"),
    ]
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["before"]
    assert Event.objects.filter(conversation=conversation, type="conversation.tags_changed").count() == 1

"""Templates render before the run's transaction opens (`workflows.engine.prerender`), and what they render is
still what the steps before them left: a step whose templates read something an earlier step of the segment
changed is rendered again, before a transaction of its own (in a run; a macro, all of it or none, renders it
again inside its one transaction)."""

import contextlib

import pytest
from django.db import connection

from conversations import services as conversations
from tests.support.runs import drain, replies
from workflows.engine import dryrun, macros, sandbox
from workflows.models import StepRun


@pytest.fixture
def renders_in_a_transaction(monkeypatch):
    """Whether a transaction was open each time a template started rendering (the test runs outside one)."""
    seen: list[bool] = []
    budgeted = sandbox.budgeted

    @contextlib.contextmanager
    def spying():
        seen.append(connection.in_atomic_block)
        with budgeted() as budget:
            yield budget

    monkeypatch.setattr(sandbox, "budgeted", spying)
    return seen


def test_no_template_renders_inside_a_transaction_and_each_reads_what_the_steps_before_left(
    transactional_db, make_workflow, contact, renders_in_a_transaction
):
    make_workflow(
        "conversation.created",
        [
            {"type": "add_tag", "config": {"tags": ["vip"]}},
            {"type": "set_variable", "config": {"name": "tags", "value": "{{ conversation.tags|join(',') }}"}},
            {"type": "set_variable", "config": {"name": "greeting", "value": "Hi {{ contact.name }}"}},
            {"type": "auto_reply", "config": {"text": "{{ vars.greeting }} ({{ vars.tags }})"}},
        ],
    )
    conversation = conversations.conversation_open(contact=contact, channel="web", subject="Tags")
    drain()
    assert replies(conversation) == [f"Hi {contact.name} (vip)"]
    assert list(StepRun.objects.order_by("position").values_list("status", flat=True)) == ["succeeded"] * 4
    # Three ahead of the first segment; the tags reader again after `add_tag` changed the conversation (the greeting
    # and the reply are kept), the reply again after the variables changed: five renders, none in a transaction.
    assert renders_in_a_transaction == [False] * 5


def test_a_step_whose_inputs_did_not_change_keeps_its_segment(transactional_db, make_workflow, contact):
    """`add_tag` changes the conversation; a reply reading only the contact is rendered ahead and still holds, so
    both commit together (one transaction: their StepRun rows carry one started time order, one run UPDATE)."""
    make_workflow(
        "conversation.created",
        [
            {"type": "add_tag", "config": {"tags": ["vip"]}},
            {"type": "auto_reply", "config": {"text": "Thanks {{ contact.name }}"}},
        ],
    )
    with _captured() as queries:  # the in-process queue runs the workflow as the conversation opens
        conversation = conversations.conversation_open(contact=contact, channel="web", subject="Thanks")
        drain()
    assert replies(conversation) == [f"Thanks {contact.name}"]
    inserts = [sql for sql in queries if sql.startswith('INSERT INTO "workflows_steprun"')]
    assert len(inserts) == 1, inserts  # both steps' rows in one INSERT: one segment


@contextlib.contextmanager
def _captured():
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        queries: list[str] = []
        yield queries
    queries.extend(query["sql"] for query in captured.captured_queries)


def test_a_macro_renders_before_its_transaction_and_again_only_what_an_earlier_step_changed(
    transactional_db, conversation, agent, renders_in_a_transaction
):
    macro = macros.macro_create(
        name="Order",
        inputs=[{"key": "order", "label": "Order number", "type": "text"}],
        steps=[
            {"type": "add_tag", "config": {"tags": ["o-{{ inputs.order }}"]}},
            {"type": "auto_reply", "config": {"text": "Order {{ inputs.order }} ok, {{ contact.name }}."}},
            {"type": "auto_reply", "config": {"text": "Tags: {{ conversation.tags|join(',') }}"}},
        ],
    )
    macros.macro_apply(macro=macro, conversation=conversation, agent=agent, inputs={"order": "42"})
    bodies = list(conversation.messages.order_by("pk").values_list("body", flat=True))
    assert bodies[-2:] == [f"Order 42 ok, {conversation.contact.name}.", "Tags: o-42"]
    # Ahead of the transaction: all three (the first two hold); inside: only the one reading the changed tags.
    assert renders_in_a_transaction == [False, False, False, True]


def test_a_dry_run_renders_its_internal_steps_before_its_rolled_back_transaction(
    transactional_db, conversation, renders_in_a_transaction
):
    report = dryrun.dry_run(
        definition={
            "name": "Dry",
            "trigger": {"type": "conversation.created", "config": {}},
            "steps": [
                {"type": "set_variable", "config": {"name": "who", "value": "{{ contact.name }}"}},
                {"type": "auto_reply", "config": {"text": "Hi {{ contact.name }}"}},
                {"type": "auto_reply", "config": {"text": "Hi again {{ vars.who }}"}},
            ],
        },
        conversation=conversation,
    )
    name = conversation.contact.name
    assert [step["input"]["text"] for step in report["steps"][1:]] == [f"Hi {name}", f"Hi again {name}"]
    # Ahead: all three; inside: only the one reading the variable the first step set (for its input and again for
    # the description of what it would do).
    assert renders_in_a_transaction == [False, False, False, True, True]

"""The `create_ticket` step: a Ticket linked to the conversation, with templated text and a `ticket.created` event."""

import pytest

from conversations import services
from conversations.models import Ticket
from tests.support.runs import definition_errors, drain, dry_run_context, events_after, only_run
from workflows.steps import step_types


def test_creates_a_ticket_with_rendered_text_and_a_depth_one_event(conversation, make_workflow):
    workflow = make_workflow(
        "conversation.created",
        [
            {
                "type": "create_ticket",
                "config": {
                    "title": "Follow up: {{ conversation.subject }}",
                    "description": "Customer {{ contact.name }} ({{ contact.attributes.plan }})",
                    "priority": "high",
                },
            }
        ],
    )
    drain()
    ticket = Ticket.objects.get(conversation=conversation)
    assert (ticket.title, ticket.description, ticket.priority) == (
        "Follow up: Printer on fire",
        "Customer Ada Lovelace (enterprise)",
        "high",
    )
    run = only_run(workflow)
    assert run.steps.get(position=0).output["ticket_id"] == ticket.pk
    [created] = events_after(run, "ticket.created")
    assert created.depth == 1


def test_priority_defaults_to_the_conversations_and_later_steps_see_the_ticket_id(contact, make_workflow):
    make_workflow(
        "conversation.created",
        [
            {"type": "create_ticket", "config": {"title": "Check"}},
            {"type": "auto_reply", "config": {"text": "Your ticket number is {{ vars.ticket_id }}."}},
        ],
    )
    conversation = services.conversation_open(contact=contact, channel="email", subject="Hi", priority="urgent")
    drain()
    ticket = Ticket.objects.get(conversation=conversation)
    assert ticket.priority == "urgent"
    assert conversation.messages.last().body == f"Your ticket number is {ticket.pk}."


def test_a_title_that_renders_empty_fails_the_run_and_creates_nothing(conversation, make_workflow):
    workflow = make_workflow(
        "conversation.created", [{"type": "create_ticket", "config": {"title": "{{ vars.none }}"}}]
    )
    drain()
    run = only_run(workflow)
    assert run.status == "failed"
    assert "title" in run.error
    assert not Ticket.objects.exists()


def test_describe_shows_the_ticket_without_creating_it(conversation):
    description = step_types.get("create_ticket").describe(
        {"title": "About {{ conversation.subject }}"}, dry_run_context(conversation)
    )
    assert description["title"] == "About Printer on fire"
    assert description["priority"] == "normal"
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"description": "no title"}, "steps[0].config.title"),
        ({"title": "x", "priority": "asap"}, "steps[0].config.priority"),
        ({"title": "{{ broken"}, "steps[0].config.title"),
        ({"title": ""}, "steps[0].config.title"),
    ],
)
def test_invalid_ticket_configs_are_rejected_naming_step_and_key(config, key):
    assert key in definition_errors({"type": "create_ticket", "config": config})

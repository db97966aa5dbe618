"""The `escalate` step: reassign to a team, raise (never lower) priority, internal note with context, email the team."""

import pytest
from django.core import mail

from conversations import services
from tests.support.runs import definition_errors, drain, dry_run_context, events_after, only_run, step_output
from workflows.engine.runner import execute_run
from workflows.services import workflow_run_manual
from workflows.steps import step_types


@pytest.fixture
def tier2(db):
    return services.team_create(name="Tier 2", email="tier2@example.com")


@pytest.fixture
def chatty_conversation(conversation, agent):
    services.message_create(conversation=conversation, body="My printer is on fire!", sender_type="customer")
    services.message_create(conversation=conversation, body="Please unplug it.", sender_type="agent", author=agent)
    services.message_create(
        conversation=conversation, body="secret agent remark", sender_type="agent", author=agent, internal=True
    )
    services.conversation_add_tags(conversation=conversation, tags=["fire"])
    services.conversation_assign(conversation=conversation, assignee=agent)
    drain()  # history: only the escalation below runs the workflow
    return conversation


def escalate(**config):
    return [{"type": "escalate", "config": config}]


def run_manually(workflow, conversation):
    """What `POST /api/workflows/{id}/run/` does, then the worker's part; returns the finished run."""
    run = workflow_run_manual(workflow=workflow, conversation=conversation)
    execute_run(run.pk)
    drain()
    run.refresh_from_db()
    return run


def test_escalation_reassigns_raises_priority_notes_and_emails_the_team(
    chatty_conversation, tier2, make_agent, make_workflow
):
    make_agent("expert", tier2)
    workflow = make_workflow(
        "manual", escalate(team="Tier 2", note="Customer mentions {{ conversation.subject }}", include_transcript=True)
    )
    run = run_manually(workflow, chatty_conversation)
    assert run.status == "succeeded", run.error
    conversation = chatty_conversation
    conversation.refresh_from_db()
    assert (conversation.team, conversation.assignee, conversation.priority) == (tier2, None, "urgent")
    note = conversation.messages.last()
    assert (note.internal, note.sender_type) == (True, "system")
    for expected in (
        "Escalated to Tier 2 (priority urgent).",
        "Customer mentions Printer on fire",
        "Contact: Ada Lovelace <ada@example.com>",
        "Attributes: plan=enterprise, vip=True",
        "Subject: Printer on fire",
        "Tags: fire",
        "Transcript:",
        "Customer: My printer is on fire!",
        "Agent: Please unplug it.",
    ):
        assert expected in note.body
    assert "secret agent remark" not in note.body
    [email] = mail.outbox
    assert email.to == ["tier2@example.com", "expert@example.com"]
    assert email.subject == f"Escalated: Conversation #{conversation.pk}: Printer on fire"
    assert "Customer mentions Printer on fire" in email.body
    for event_type in ("conversation.assigned", "conversation.priority_changed", "message.created"):
        assert [event.depth for event in events_after(run, event_type)] == [1], event_type


def test_escalation_never_lowers_priority(contact, make_workflow):
    conversation = services.conversation_open(contact=contact, channel="email", subject="Outage", priority="urgent")
    workflow = make_workflow("conversation.created", escalate(priority="high"))
    drain()
    conversation.refresh_from_db()
    assert conversation.priority == "urgent"
    run = only_run(workflow)
    assert run.status == "succeeded"
    assert events_after(run, "conversation.priority_changed") == []


def test_escalation_raises_to_the_configured_priority(contact, make_workflow):
    conversation = services.conversation_open(contact=contact, channel="email", subject="Slow", priority="low")
    make_workflow("conversation.created", escalate(priority="high"))
    drain()
    conversation.refresh_from_db()
    assert conversation.priority == "high"


def test_without_a_team_the_current_team_is_notified_and_the_assignee_kept(
    chatty_conversation, tier2, agent, make_workflow
):
    services.conversation_assign(conversation=chatty_conversation, team=tier2)
    drain()
    workflow = make_workflow("message.created", escalate(include_transcript=False), {"sender_types": ["customer"]})
    services.message_create(conversation=chatty_conversation, body="Hello?", sender_type="customer")
    drain()
    chatty_conversation.refresh_from_db()
    assert (chatty_conversation.team, chatty_conversation.assignee) == (tier2, agent)
    assert mail.outbox[0].to == ["tier2@example.com"]
    note = chatty_conversation.messages.filter(internal=True, sender_type="system").get()
    assert "Transcript:" not in note.body
    assert step_output(workflow)["notified"] == ["tier2@example.com"]


def test_an_assignee_who_belongs_to_the_new_team_keeps_the_conversation(contact, tier2, make_agent, make_workflow):
    expert = make_agent("expert", tier2)
    conversation = services.conversation_open(contact=contact, channel="email", subject="Deep")
    services.conversation_assign(conversation=conversation, assignee=expert)
    drain()
    run_manually(make_workflow("manual", escalate(team=tier2.pk)), conversation)
    conversation.refresh_from_db()
    assert (conversation.team, conversation.assignee) == (tier2, expert)


def test_nobody_to_email_is_not_a_failure_and_is_said(conversation, make_workflow):
    workflow = make_workflow("conversation.created", escalate(note="No team yet"))
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded"
    assert step_output(workflow)["notice"] == "no team email or member email to notify"
    assert mail.outbox == []


def test_describe_shows_the_plan_without_changing_anything(chatty_conversation, tier2):
    description = step_types.get("escalate").describe({"team": "Tier 2"}, dry_run_context(chatty_conversation))
    assert (description["team"], description["priority"], description["notify"]) == (
        "Tier 2",
        "urgent",
        ["tier2@example.com"],
    )
    assert "Customer: My printer is on fire!" in description["note"]
    chatty_conversation.refresh_from_db()
    assert chatty_conversation.priority == "normal" and chatty_conversation.team is None
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"priority": "critical"}, "steps[0].config.priority"),
        ({"include_transcript": "yes"}, "steps[0].config.include_transcript"),
        ({"note": "{% if %}"}, "steps[0].config.note"),
        ({"team": ""}, "steps[0].config.team"),
        ({"notify": True}, "steps[0].config"),
    ],
)
def test_invalid_escalate_configs_are_rejected_naming_step_and_key(config, key):
    assert key in definition_errors({"type": "escalate", "config": config})

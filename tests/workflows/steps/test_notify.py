"""The `notify` step: an internal email to users, teams (team email and members) and addresses."""

import pytest
from django.core import mail

from conversations import services
from tests.support.runs import definition_errors, drain, dry_run_context, only_run
from workflows.steps import step_types


def test_emails_users_teams_and_addresses_once_each_with_rendered_text(conversation, team, make_agent, make_workflow):
    services.team_update(team=team, email="support@example.com")
    make_agent("ann", team)
    make_agent("bob", team)
    lead = make_agent("lead")
    workflow = make_workflow(
        "conversation.created",
        [
            {
                "type": "notify",
                "config": {
                    "users": ["lead", "ann"],
                    "teams": ["Support"],
                    "emails": ["boss@example.com", "{{ contact.email }}"],
                    "subject": "VIP {{ contact.name }} needs help",
                    "text": "{{ contact.name }} wrote about {{ conversation.subject }}.",
                },
            }
        ],
    )
    drain()
    assert only_run(workflow).status == "succeeded"
    [email] = mail.outbox
    assert email.to == [
        lead.email,
        "ann@example.com",
        "support@example.com",
        "bob@example.com",
        "boss@example.com",
        "ada@example.com",
    ]
    assert email.subject == "VIP Ada Lovelace needs help"
    assert email.body.startswith("Ada Lovelace wrote about Printer on fire.")
    assert f"/admin/conversations/conversation/{conversation.pk}/change/" in email.body


def test_subject_defaults_to_the_conversation(conversation, make_workflow):
    make_workflow(
        "conversation.created", [{"type": "notify", "config": {"emails": ["ops@example.com"], "text": "Look"}}]
    )
    drain()
    assert mail.outbox[0].subject == f"Conversation #{conversation.pk}: Printer on fire"


def test_an_unknown_team_fails_the_run_and_sends_nothing(conversation, make_workflow):
    ghosts = services.team_create(name="Ghosts")
    workflow = make_workflow(
        "conversation.created",
        [{"type": "notify", "config": {"teams": ["Ghosts"], "emails": ["ops@example.com"], "text": "Hi"}}],
    )
    ghosts.delete()  # deleted after the workflow was saved
    drain()
    run = only_run(workflow)
    assert run.status == "failed"
    assert 'No team "Ghosts"' in run.error
    assert mail.outbox == []


def test_a_team_without_any_address_fails_clearly(conversation, team, make_workflow):
    workflow = make_workflow("conversation.created", [{"type": "notify", "config": {"teams": [team.pk], "text": "Hi"}}])
    drain()
    assert "None of the recipients has an email address" in only_run(workflow).error


def test_a_rendered_address_that_is_not_one_fails_naming_it(conversation, make_workflow):
    workflow = make_workflow(
        "conversation.created", [{"type": "notify", "config": {"emails": ["{{ contact.name }}"], "text": "Hi"}}]
    )
    drain()
    assert '"Ada Lovelace" is not an email address' in only_run(workflow).error
    assert mail.outbox == []


def test_describe_lists_the_recipients_without_sending(conversation, team, make_agent):
    make_agent("ann", team)
    description = step_types.get("notify").describe(
        {"teams": ["Support"], "text": "Hi {{ contact.name }}"}, dry_run_context(conversation)
    )
    assert description["to"] == ["ann@example.com"]
    assert description["body"].startswith("Hi Ada Lovelace")
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"text": "Nobody to tell"}, "steps[0].config.users"),
        ({"users": [], "teams": [], "text": "Empty lists"}, "steps[0].config.users"),
        ({"emails": ["not-an-address"], "text": "x"}, "steps[0].config.emails"),
        ({"emails": ["ops@example.com"]}, "steps[0].config.text"),
        ({"emails": "ops@example.com", "text": "x"}, "steps[0].config.emails"),
        ({"emails": ["ops@example.com"], "text": "x", "cc": ["a@example.com"]}, "steps[0].config"),
    ],
)
def test_invalid_notify_configs_are_rejected_naming_step_and_key(config, key):
    assert key in definition_errors({"type": "notify", "config": config})

"""The `send_email` step: email the customer, keep a copy on the conversation, fail clearly without an address."""

import pytest
from django.core import mail

from conversations import services
from tests.support.runs import definition_errors, drain, dry_run_context, events_after, only_run
from workflows.steps import step_types

HELLO = {"subject": "About {{ conversation.subject }}", "body": "Hello {{ contact.name }}, we are on it."}


def test_emails_the_contact_and_records_a_public_message(conversation, make_workflow):
    workflow = make_workflow("conversation.created", [{"type": "send_email", "config": HELLO}])
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    [email] = mail.outbox
    assert (email.to, email.subject, email.body) == (
        ["ada@example.com"],
        "About Printer on fire",
        "Hello Ada Lovelace, we are on it.",
    )
    message = conversation.messages.get()
    assert (message.body, message.sender_type, message.internal) == (email.body, "system", False)
    [created] = events_after(run, "message.created")
    assert created.depth == 1


def test_to_can_be_a_template_and_recording_can_be_turned_off(conversation, make_workflow):
    services.contact_update(contact=conversation.contact, attributes_patch={"manager": "kim@example.com"})
    make_workflow(
        "conversation.created",
        [
            {
                "type": "send_email",
                "config": {**HELLO, "to": "{{ contact.attributes.manager }}", "record_message": False},
            }
        ],
    )
    drain()
    assert mail.outbox[0].to == ["kim@example.com"]
    assert not conversation.messages.exists()


def test_no_address_fails_the_run_clearly_and_sends_nothing(make_workflow):
    contact = services.contact_create(name="Phone only", phone="+14155550100")
    conversation = services.conversation_open(contact=contact, channel="phone", subject="Call")
    workflow = make_workflow("conversation.created", [{"type": "send_email", "config": HELLO}])
    drain()
    run = only_run(workflow)
    assert run.status == "failed"
    assert "The contact has no email address" in run.error
    assert mail.outbox == []
    assert not conversation.messages.exists()


def test_a_failing_mail_server_fails_the_step_and_keeps_no_message(conversation, make_workflow, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens there
    workflow = make_workflow("conversation.created", [{"type": "send_email", "config": HELLO}])
    drain()
    run = only_run(workflow)
    assert run.status == "failed"
    assert "The email could not be sent" in run.error
    assert not conversation.messages.exists()


def test_describe_renders_the_email_without_sending(conversation):
    description = step_types.get("send_email").describe(HELLO, dry_run_context(conversation))
    assert (description["to"], description["subject"]) == (["ada@example.com"], "About Printer on fire")
    assert mail.outbox == [] and not conversation.messages.exists()


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"subject": "No body"}, "steps[0].config.body"),
        ({"body": "No subject"}, "steps[0].config.subject"),
        ({**HELLO, "to": "nobody"}, "steps[0].config.to"),
        ({**HELLO, "to": ["a@example.com"]}, "steps[0].config.to"),
        ({**HELLO, "record_message": "no"}, "steps[0].config.record_message"),
    ],
)
def test_invalid_send_email_configs_are_rejected_naming_step_and_key(config, key):
    assert key in definition_errors({"type": "send_email", "config": config})

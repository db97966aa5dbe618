"""The `send_survey` step: a Survey with a token link sent by email or as a message; SMS is refused for now."""
import pytest
from django.core import mail

from conversations import services
from conversations.models import Survey
from tests.workflows.conftest import drain
from tests.workflows.steps.conftest import definition_errors, dry_run_context, events_after, only_run, step_output
from workflows.steps import step_types


def survey(**config):
    return [{"type": "send_survey", "config": config}]


def test_email_survey_sends_the_token_link_and_the_answer_endpoint_takes_it(conversation, make_workflow, settings,
                                                                           anon_client):
    workflow = make_workflow("conversation.created", survey(via="email", question="How did we do, {{ contact.name }}?"))
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    created = Survey.objects.get(conversation=conversation)
    assert (created.question, created.via) == ("How did we do, Ada Lovelace?", "email")
    link = f"{settings.SITE_URL}/survey/{created.token}/"
    [email] = mail.outbox
    assert email.to == ["ada@example.com"] and link in email.body
    output = step_output(workflow)
    assert (output["survey_id"], output["link"], output["delivered_via"]) == (created.pk, link, "email")
    [sent] = events_after(run, "survey.sent")
    assert sent.depth == 1
    response = anon_client.post(f"/api/surveys/{created.token}/answer/", {"score": 5}, format="json")
    assert response.status_code == 200


def test_message_survey_posts_the_link_with_an_answer_button(conversation, make_workflow, settings):
    make_workflow("conversation.created", survey(via="message"))
    drain()
    created = Survey.objects.get(conversation=conversation)
    link = f"{settings.SITE_URL}/survey/{created.token}/"
    message = conversation.messages.get()
    assert (message.internal, message.sender_type) == (False, "system")
    assert message.body == f"How would you rate the help you received?\n{link}"
    assert message.buttons == [{"label": "Answer the survey", "url": link}]
    assert mail.outbox == []


def test_sms_survey_fails_clearly_and_creates_no_survey(conversation, make_workflow):
    workflow = make_workflow("conversation.created", survey(via="sms"))
    drain()
    run = only_run(workflow)
    assert run.status == "failed"
    assert "Surveys by SMS need an SMS backend" in run.error
    assert not Survey.objects.exists()


def test_email_survey_to_a_contact_without_email_fails_and_creates_nothing(make_workflow):
    contact = services.contact_create(name="Phone only", phone="+14155550100")
    services.conversation_open(contact=contact, channel="phone", subject="Call")
    workflow = make_workflow("conversation.created", survey())
    drain()
    assert "The contact has no email address" in only_run(workflow).error
    assert not Survey.objects.exists() and mail.outbox == []


def test_describe_shows_the_channel_and_question_without_creating_a_survey(conversation):
    description = step_types.get("send_survey").describe({"via": "email"}, dry_run_context(conversation))
    assert (description["via"], description["to"]) == ("email", ["ada@example.com"])
    assert description["question"] == "How would you rate the help you received?"
    assert not Survey.objects.exists()


@pytest.mark.parametrize(("config", "key"), [
    ({"via": "pigeon"}, "steps[0].config.via"),
    ({"question": ""}, "steps[0].config.question"),
    ({"question": "{{ unclosed"}, "steps[0].config.question"),
    ({"via": "email", "channel": "x"}, "steps[0].config"),
])
def test_invalid_send_survey_configs_are_rejected_naming_step_and_key(config, key):
    assert key in definition_errors({"type": "send_survey", "config": config})

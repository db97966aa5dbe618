"""The `send_survey` step: a Survey with a token link sent by email, as a message, or by SMS through an SMS provider
(a local fake gateway here)."""

import datetime as dt
import json

import pytest
from django.core import mail

from conversations import clock, services
from conversations.models import Survey
from tests.support.runs import definition_errors, drain, dry_run_context, events_after, only_run, step_output
from workflows.engine.sweep import resume_due_runs
from workflows.integrations import services as integrations
from workflows.steps import step_types


def survey(**config):
    return [{"type": "send_survey", "config": config}]


def test_email_survey_sends_the_token_link_and_the_answer_endpoint_takes_it(
    conversation, make_workflow, settings, anon_client
):
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


@pytest.fixture
def sms_gateway(httpserver, settings):
    """An SMS integration on a local fake gateway (allowlisted for the SSRF guard), with a default sender."""
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    settings.HELPDESK_RETRY_BASE_SECONDS = 1
    settings.HELPDESK_SMS_SENDER = "+14155550100"
    return integrations.integration_save(
        name="SMS",
        base_url=httpserver.url_for("/sms"),
        auth={"type": "header", "header": "X-Api-Key", "value": "key-123"},
    )


def test_sms_survey_texts_the_link_to_the_contact_phone(conversation, make_workflow, settings, httpserver, sms_gateway):
    httpserver.expect_request("/sms", method="POST").respond_with_json({"id": "sms-1", "status": "sent"})
    workflow = make_workflow("conversation.created", survey(via="sms", integration="SMS"))
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    created = Survey.objects.get(conversation=conversation)
    link = f"{settings.SITE_URL}/survey/{created.token}/"
    [(request, _)] = httpserver.log
    assert request.headers["X-Api-Key"] == "key-123"
    assert json.loads(request.get_data()) == {
        "from": "+14155550100",
        "to": "+14155550123",
        "text": f"How would you rate the help you received? {link}",
    }
    output = step_output(workflow)
    assert (output["delivered_via"], output["to"], output["sms"]["message_id"]) == ("sms", "+14155550123", "sms-1")
    assert created.via == "sms" and mail.outbox == []


def test_a_retried_sms_survey_resends_the_same_link_with_the_same_key(
    conversation, make_workflow, httpserver, sms_gateway
):
    httpserver.expect_ordered_request("/sms").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/sms").respond_with_json({"id": "sms-2"})
    workflow = make_workflow("conversation.created", survey(via="sms", integration="SMS"))
    drain()
    assert only_run(workflow).status == "waiting"
    with clock.travel(dt.timedelta(minutes=5)):
        resume_due_runs(clock.now())
    assert only_run(workflow).status == "succeeded", only_run(workflow).error
    created = Survey.objects.get(conversation=conversation)  # one survey, not one per attempt
    (first, _), (second, _) = httpserver.log
    assert first.get_data() == second.get_data() and created.token in second.get_data(as_text=True)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


def test_an_sms_survey_rejected_by_the_provider_fails_and_leaves_no_survey(
    conversation, make_workflow, httpserver, sms_gateway
):
    httpserver.expect_request("/sms").respond_with_json({"error": "unknown sender"}, status=400)
    workflow = make_workflow("conversation.created", survey(via="sms", integration="SMS"))
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "HTTP 400" in run.error and "unknown sender" in run.error
    assert not Survey.objects.exists() and len(httpserver.log) == 1


def test_an_sms_survey_to_a_contact_without_phone_fails_and_sends_nothing(make_workflow, httpserver, sms_gateway):
    contact = services.contact_create(name="Mail only", email="m@example.com")
    services.conversation_open(contact=contact, channel="email", subject="Hi")
    workflow = make_workflow("conversation.created", survey(via="sms", integration="SMS"))
    drain()
    assert "The contact has no phone number" in only_run(workflow).error
    assert not Survey.objects.exists() and httpserver.log == []


def test_sms_survey_uses_the_default_integration_setting(
    conversation, make_workflow, httpserver, sms_gateway, settings
):
    settings.HELPDESK_SMS_INTEGRATION = "SMS"
    httpserver.expect_request("/sms").respond_with_json({"id": "sms-3"})
    workflow = make_workflow("conversation.created", survey(via="sms"))
    drain()
    assert only_run(workflow).status == "succeeded", only_run(workflow).error


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


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"via": "pigeon"}, "steps[0].config.via"),
        ({"question": ""}, "steps[0].config.question"),
        ({"question": "{{ unclosed"}, "steps[0].config.question"),
        ({"via": "email", "channel": "x"}, "steps[0].config"),
        ({"via": "sms", "sender": "+14155550100"}, "steps[0].config.integration"),
        ({"via": "sms", "integration": "SMS"}, "steps[0].config.sender"),
        ({"via": "sms", "integration": "SMS", "sender": "0176 123"}, "steps[0].config.sender"),
        ({"via": "sms", "integration": "SMS", "sender": "+14155550100", "provider": "x"}, "steps[0].config.provider"),
        ({"via": "email", "sender": "+14155550100"}, "steps[0].config.sender"),
    ],
)
def test_invalid_send_survey_configs_are_rejected_naming_step_and_key(config, key):
    assert key in definition_errors({"type": "send_survey", "config": config})


def test_an_sms_survey_is_texted_outside_any_database_transaction(
    conversation, make_workflow, httpserver, sms_gateway, monkeypatch
):
    """No lock is held while the provider answers: the call happens at the test's own transaction depth."""
    from django.db import connection

    from workflows.integrations import sms_providers

    baseline, depths = len(connection.atomic_blocks), []
    real_send = sms_providers.send_sms

    def recording_send(**kwargs):
        depths.append(len(connection.atomic_blocks))
        return real_send(**kwargs)

    monkeypatch.setattr(sms_providers, "send_sms", recording_send)
    httpserver.expect_request("/sms").respond_with_json({"id": "sms-9"})
    workflow = make_workflow("conversation.created", survey(via="sms", integration="SMS"))
    drain()
    assert only_run(workflow).status == "succeeded", only_run(workflow).error
    assert depths == [baseline]
    created = Survey.objects.get(conversation=conversation)
    assert created.token in json.loads(httpserver.log[0][0].data)["text"]

"""`sms` against local fake SMS APIs: the generic JSON provider and Twilio's real request shape (path, form fields,
basic auth), E.164 checks on save for literal numbers and at run time for templated ones, and the retry policy
(5xx/429 retried with the same Idempotency-Key, 400 failed at once)."""

import base64
import json
from urllib.parse import parse_qs

import pytest

from conversations import services
from tests.support.runs import definition_errors, drain, dry_run_context, only_run, resume_after
from workflows.integrations import services as integrations
from workflows.steps import step_types

pytestmark = pytest.mark.usefixtures("allow_loopback")

SENDER = "+14155550100"
CONTACT_PHONE = "+14155550123"  # the `contact` fixture's phone
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-auth-token-secret"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def sms_gateway(httpserver):
    return integrations.integration_save(
        name="SMS",
        base_url=httpserver.url_for("/v1/messages"),
        auth={"type": "basic", "username": "AKID123", "password": "sms-secret"},
    )


@pytest.fixture
def twilio(httpserver):
    return integrations.integration_save(
        name="Twilio",
        base_url=httpserver.url_for("/"),
        auth={"type": "basic", "username": TWILIO_SID, "password": TWILIO_TOKEN},
    )


def sms_step(**config):
    return [
        {
            "type": "sms",
            "config": {
                "integration": "SMS",
                "sender": SENDER,
                "text": "Hi {{ contact.name }}, we got your request.",
                **config,
            },
        }
    ]


def test_generic_provider_posts_json_to_the_base_url(conversation, make_workflow, httpserver, sms_gateway):
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json({"id": "msg-42", "status": "sent"})
    workflow = make_workflow("conversation.created", sms_step())
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    [(request, _)] = httpserver.log
    assert json.loads(request.get_data()) == {
        "from": SENDER,
        "to": CONTACT_PHONE,
        "text": "Hi Ada Lovelace, we got your request.",
    }
    assert request.headers["Authorization"] == basic("AKID123", "sms-secret")
    assert request.headers["Idempotency-Key"]
    assert run.steps.get().output == {"status_code": 200, "message_id": "msg-42", "status": "sent", "to": CONTACT_PHONE}


def test_twilio_gets_its_real_api_shape(conversation, make_workflow, httpserver, twilio):
    httpserver.expect_request(f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json", method="POST").respond_with_json(
        {"sid": "SM1234567890abcdef1234567890abcdef", "status": "queued"}, status=201
    )
    workflow = make_workflow(
        "conversation.created", sms_step(integration="Twilio", provider="twilio", recipient="+4915112345678")
    )
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    [(request, _)] = httpserver.log
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.get_data(as_text=True)) == {
        "To": ["+4915112345678"],
        "From": [SENDER],
        "Body": ["Hi Ada Lovelace, we got your request."],
    }
    assert request.headers["Authorization"] == basic(TWILIO_SID, TWILIO_TOKEN)
    output = run.steps.get().output
    assert (output["message_id"], output["status"]) == ("SM1234567890abcdef1234567890abcdef", "queued")
    assert TWILIO_TOKEN not in json.dumps([run.steps.get().input, output])


def test_twilio_needs_basic_auth_with_the_account_sid(conversation, make_workflow, httpserver):
    integrations.integration_save(
        name="Twilio", base_url=httpserver.url_for("/"), auth={"type": "bearer", "token": "tok-123"}
    )
    workflow = make_workflow("conversation.created", sms_step(integration="Twilio", provider="twilio"))
    drain()
    assert "needs basic auth" in only_run(workflow).error and httpserver.log == []


def test_a_templated_recipient_that_is_not_e164_fails_the_step_and_sends_nothing(
    make_workflow, httpserver, sms_gateway
):
    contact = services.contact_create(name="Bo", email="bo@example.com", attributes={"mobile": "0176 1234"})
    services.conversation_open(contact=contact, channel="sms", subject="Hello")
    workflow = make_workflow("conversation.created", sms_step(recipient="{{ contact.attributes.mobile }}"))
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "recipient" in run.error and "E.164" in run.error
    assert httpserver.log == []


def test_a_contact_without_phone_fails_clearly(make_workflow, httpserver, sms_gateway):
    contact = services.contact_create(name="Mail only", email="m@example.com")
    services.conversation_open(contact=contact, channel="email", subject="Hello")
    workflow = make_workflow("conversation.created", sms_step())
    drain()
    assert "the contact has no phone number" in only_run(workflow).error and httpserver.log == []


@pytest.mark.parametrize("status", [500, 429])
def test_transient_failures_are_retried_with_the_same_key(conversation, make_workflow, httpserver, sms_gateway, status):
    httpserver.expect_ordered_request("/v1/messages").respond_with_data("busy", status=status)
    httpserver.expect_ordered_request("/v1/messages").respond_with_json({"id": "msg-1"})
    workflow = make_workflow("conversation.created", sms_step())
    drain()
    assert only_run(workflow).status == "waiting"
    resume_after(120)
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    assert run.steps.get().attempts == 2
    (first, _), (second, _) = httpserver.log
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


def test_a_rejected_message_fails_at_once(conversation, make_workflow, httpserver, twilio):
    httpserver.expect_request(f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json").respond_with_json(
        {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}, status=400
    )
    workflow = make_workflow("conversation.created", sms_step(integration="Twilio", provider="twilio"))
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "HTTP 400" in run.error and "21211" in run.error
    assert len(httpserver.log) == 1


def test_dry_run_describes_the_message_without_sending(conversation, httpserver, sms_gateway, no_sockets):
    description = step_types.get("sms").describe(sms_step()[0]["config"], dry_run_context(conversation))
    assert (description["from"], description["to"], description["provider"]) == (SENDER, CONTACT_PHONE, "http")
    assert description["request"]["url"] == httpserver.url_for("/v1/messages")
    assert "sms-secret" not in json.dumps(description)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"sender": "4155550100"}, "steps[0].config.sender"),
        ({"sender": "+1415555"}, "steps[0].config.sender"),
        ({"recipient": "+99912345"}, "steps[0].config.recipient"),
        ({"recipient": "call me"}, "steps[0].config.recipient"),
        ({"provider": "carrier-pigeon"}, "steps[0].config.provider"),
        ({"text": ""}, "steps[0].config.text"),
        ({"text": "x" * 1601}, "steps[0].config.text"),
        ({"integration": None}, "steps[0].config.integration"),
    ],
)
def test_bad_configs_are_named_by_key(config, key):
    step = sms_step(**config)[0]
    assert key in definition_errors(step)


def test_templated_numbers_pass_validation():
    assert definition_errors(sms_step(sender="{{ vars.line }}", recipient="{{ contact.attributes.mobile }}")[0]) == {}

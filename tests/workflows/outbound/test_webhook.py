"""`webhook` against a real local receiver: the event envelope (docs/api.md), Standard Webhooks signatures verified on
the receiving side (recomputed here from the documented scheme, not with our signing code), retries that repeat the same
webhook-id and Idempotency-Key, the generated `whsec_` secret, the Zapier/Make presets and secret masking."""

import base64
import json

import pytest
from werkzeug import Response

from conversations import clock, services
from tests.support.outbound import SECRET, receiver_verifies, webhook
from tests.support.runs import definition_errors, drain, dry_run_context, only_run, resume_after
from workflows.integrations import services as integrations
from workflows.services import workflow_definition
from workflows.steps import step_types

pytestmark = pytest.mark.usefixtures("allow_loopback")


def test_receiver_verifies_the_signed_envelope(conversation, make_workflow, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    workflow = make_workflow("conversation.created", webhook(httpserver.url_for("/hook")), name="Zap it")
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    [(request, _)] = httpserver.log
    assert receiver_verifies(request)
    assert not receiver_verifies(request, "whsec_" + base64.b64encode(b"x" * 32).decode())
    assert abs(int(request.headers["webhook-timestamp"]) - clock.now().timestamp()) < 60
    assert request.headers["X-Helpdesk-Event"] == "conversation.created"
    assert request.headers["Content-Type"] == "application/json"
    envelope = json.loads(request.get_data())
    assert set(envelope) == {"id", "type", "occurred_at", "workflow", "run_id", "data"}
    assert (envelope["id"], envelope["type"]) == (str(run.event_id), "conversation.created")
    assert envelope["workflow"] == {"id": workflow.pk, "name": "Zap it"} and envelope["run_id"] == run.pk
    assert envelope["data"]["conversation"]["id"] == conversation.pk
    assert envelope["data"]["contact"]["email"] == "ada@example.com"
    assert "message" not in envelope["data"]  # no message on this event


def test_a_message_event_carries_the_message(conversation, make_workflow, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    make_workflow("message.created", webhook(httpserver.url_for("/hook")))
    services.message_create(conversation=conversation, body="Where is my order?", sender_type="customer")
    drain()
    [(request, _)] = httpserver.log
    assert json.loads(request.get_data())["data"]["message"]["body"] == "Where is my order?"
    assert request.headers["X-Helpdesk-Event"] == "message.created"


def test_a_retry_repeats_the_webhook_id_and_idempotency_key(conversation, make_workflow, httpserver):
    httpserver.expect_ordered_request("/hook").respond_with_response(Response("down", status=500))
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    workflow = make_workflow("conversation.created", webhook(httpserver.url_for("/hook")))
    drain()
    run = only_run(workflow)
    assert run.status == "waiting" and "HTTP 500" in run.steps.get().error
    resume_after(120)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    (first, _), (second, _) = httpserver.log
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert int(second.headers["webhook-timestamp"]) > int(first.headers["webhook-timestamp"])
    assert receiver_verifies(first) and receiver_verifies(second)
    assert run.steps.get().output["webhook_id"] == first.headers["webhook-id"]


def test_a_client_error_fails_at_once(conversation, make_workflow, httpserver):
    httpserver.expect_request("/hook").respond_with_data("bad signature", status=400)
    workflow = make_workflow("conversation.created", webhook(httpserver.url_for("/hook")))
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "HTTP 400: bad signature" in run.error
    assert len(httpserver.log) == 1


def test_an_empty_secret_is_generated_on_save(make_workflow):
    workflow = make_workflow("conversation.created", [{"type": "webhook", "config": {"url": "https://example.com/h"}}])
    secret = workflow_definition(workflow, reveal="all")["steps"][0]["config"]["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:], validate=True)) == 32
    assert workflow_definition(workflow)["steps"][0]["config"]["secret"] == "****"  # reads never show it
    other = make_workflow("conversation.created", [{"type": "webhook", "config": {"url": "https://example.com/h"}}])
    assert workflow_definition(other, reveal="all")["steps"][0]["config"]["secret"] != secret


def test_the_secret_never_reaches_the_run_log_or_the_dry_run(conversation, make_workflow, httpserver):
    httpserver.expect_request("/hook").respond_with_data(f"echo {SECRET}", status=400)
    workflow = make_workflow("conversation.created", webhook(httpserver.url_for("/hook")))
    drain()
    step = only_run(workflow).steps.get()
    assert step.input["secret"] == "****"
    recorded = json.dumps([step.input, step.output, step.error, only_run(workflow).error])
    assert SECRET not in recorded and SECRET[6:] not in recorded
    description = step_types.get("webhook").describe(
        webhook("https://example.com/h")[0]["config"], dry_run_context(conversation)
    )
    assert SECRET not in json.dumps(description)
    assert {"webhook-id", "webhook-signature"} <= set(description["headers"])


def test_a_webhook_reads_no_integration_secret(manager_client, httpserver):
    """A webhook names no integration, so it may read none of their secrets (its signing secret is its own,
    write-only key): `{{ secrets.* }}` is refused on save, naming the step and key."""
    integrations.integration_save(name="Hooks", secrets={"hook_secret": SECRET})
    response = manager_client.post(
        "/api/workflows/",
        {
            "name": "Hook",
            "trigger": {"type": "conversation.created", "config": {}},
            "steps": webhook(httpserver.url_for("/hook"), secret="{{ secrets.hook_secret }}"),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "names an integration" in str(response.json()["steps[0].config.secret"])


def test_dry_run_sends_nothing(conversation, httpserver, no_sockets):
    description = step_types.get("webhook").describe(
        webhook(httpserver.url_for("/hook"))[0]["config"], dry_run_context(conversation)
    )
    assert description["url"] == httpserver.url_for("/hook")
    assert description["envelope"]["data"]["conversation"]["id"] == conversation.pk
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("preset", "url"),
    [
        ("zapier", "https://hooks.zapier.com/hooks/catch/123/abc/"),
        ("make", "https://hook.eu1.make.com/abcdef"),
        ("generic", "https://example.com/anything"),
    ],
)
def test_presets_accept_their_hook_urls(preset, url):
    assert definition_errors({"type": "webhook", "config": {"url": url, "preset": preset}}) == {}


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"url": "https://example.com/h", "preset": "zapier"}, "steps[0].config.url"),
        ({"url": "https://hooks.zapier.com.evil.example/h", "preset": "zapier"}, "steps[0].config.url"),
        ({"url": "https://example.com/h", "preset": "make"}, "steps[0].config.url"),
        ({"url": "ftp://example.com/h"}, "steps[0].config.url"),
        ({"url": "https://example.com/h", "secret": "plain-text"}, "steps[0].config.secret"),
        ({"url": "https://example.com/h", "secret": "whsec_not base64!"}, "steps[0].config.secret"),
        ({"url": "https://example.com/h", "preset": "ifttt"}, "steps[0].config.preset"),
        ({"secret": SECRET}, "steps[0].config.url"),
        ({"url": "https://example.com/h", "extra": 1}, "steps[0].config"),
    ],
)
def test_bad_configs_are_named_by_key(config, key):
    assert key in definition_errors({"type": "webhook", "config": config})

"""The `custom_action` step: only published actions validate; the templated input is checked against the input
schema before any call, the reply against the output schema after; schema failures fail the step with the
jsonschema message (never raised); the reply lands in `vars.<action>`. Uses the Talkdesk seed's auvious action."""

import datetime as dt

import pytest

from conversations import clock
from conversations import services as conversations
from tests.support.outbound import auvious_fixture, serve_auvious
from tests.support.runs import drain
from workflows.engine.definition import DefinitionError
from workflows.engine.sweep import sweep_once
from workflows.integrations.custom_actions import custom_action_save
from workflows.integrations.services import integration_save
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db
STEP_INPUT = {
    **auvious_fixture("test_input"),
    "customerId": "{{ contact.email }}",
    "interactionId": "conv-{{ conversation.id }}",
    "ticketExpirationSeconds": "{{ 60 * 5 }}",
}


@pytest.fixture
def auvious(httpserver, allow_loopback):
    """The seed's integration (OAuth2 client credentials) and published action, against a local fake auvious."""
    integration = integration_save(
        name="auvious",
        base_url=httpserver.url_for("/"),
        auth={
            "type": "oauth2_client_credentials",
            "client_id": "talkdesk-connect",
            "client_secret": "auv-client-secret",
            "token_url": httpserver.url_for("/security/oauth/token"),
        },
    )
    return custom_action_save(
        integration=integration,
        name="auvious_room",
        method="POST",
        path="/security/facades/room",
        input_schema=auvious_fixture("input_schema"),
        output_schema=auvious_fixture("output_schema"),
        published=True,
    )


def run_on_new_conversation(make_workflow, contact, steps) -> WorkflowRun:
    workflow = make_workflow("conversation.created", steps)
    conversations.conversation_open(contact=contact, channel="phone", subject="Video call please")
    drain()
    return WorkflowRun.objects.get(workflow=workflow)


def auvious_step(**input_overrides):
    return {"type": "custom_action", "config": {"action": "auvious_room", "input": {**STEP_INPUT, **input_overrides}}}


def test_published_action_runs_and_saves_output_to_vars(httpserver, auvious, make_workflow, contact):
    tokens, room = serve_auvious(httpserver)
    run = run_on_new_conversation(
        make_workflow,
        contact,
        [
            auvious_step(),
            {"type": "set_variable", "config": {"name": "link", "value": "{{ vars.auvious_room.ticketUrl }}"}},
        ],
    )
    assert run.status == "succeeded", run.error
    sent = room.seen[0]["json"]
    assert sent["customerId"] == "ada@example.com" and sent["interactionId"] == f"conv-{run.conversation_id}"
    assert sent["ticketExpirationSeconds"] == 300  # rendered text coerced to the schema's integer
    assert room.seen[0]["token"] == "tok-1" and room.seen[0]["idempotency_key"]
    assert run.variables["auvious_room"]["agentUrl"] == "https://auvious.video/a/1"
    assert run.variables["link"] == "https://auvious.video/t/1"
    step = run.steps.get(position=0)
    assert step.output == {"status_code": 200, "response": run.variables["auvious_room"]}


def test_save_as_names_the_variable(httpserver, auvious, make_workflow, contact):
    serve_auvious(httpserver)
    step = auvious_step()
    step["config"]["save_as"] = "video"
    run = run_on_new_conversation(make_workflow, contact, [step])
    assert run.status == "succeeded" and "ticketUrl" in run.variables["video"]


def test_input_breaking_the_schema_fails_before_any_call(httpserver, auvious, make_workflow, contact):
    tokens, room = serve_auvious(httpserver)
    bad_step = auvious_step(unexpected="x", ticketExpirationSeconds="soon")
    run = run_on_new_conversation(make_workflow, contact, [bad_step])
    assert run.status == "failed"
    step = run.steps.get(position=0)
    assert step.status == "failed"
    assert "input breaks its schema" in step.error
    assert "Additional properties are not allowed ('unexpected' was unexpected)" in step.error
    assert "input.ticketExpirationSeconds: 'soon' is not of type 'integer'" in step.error
    assert room.seen == [] and tokens.requests == [], "nothing may be sent when the input is invalid"


def test_output_breaking_the_schema_fails_the_step_with_the_reply(httpserver, auvious, make_workflow, contact):
    serve_auvious(httpserver, body={"agentUrl": 7})
    run = run_on_new_conversation(make_workflow, contact, [auvious_step()])
    step = run.steps.get(position=0)
    assert run.status == "failed" and step.status == "failed"
    assert "output breaks its schema" in step.error
    assert "'ticketUrl' is a required property" in step.error
    assert "output.agentUrl: 7 is not of type 'string'" in step.error
    assert step.output == {"status_code": 200, "response": {"agentUrl": 7}}
    assert "auvious_room" not in run.variables


def test_unpublished_action_is_a_validation_error(auvious, make_workflow):
    auvious.published = False
    auvious.save()
    with pytest.raises(DefinitionError) as failure:
        make_workflow("conversation.created", [auvious_step()])
    assert "steps[0].config.action" in failure.value.errors
    assert "not published" in " ".join(failure.value.errors["steps[0].config.action"])


def test_unknown_action_is_a_validation_error(db, make_workflow):
    with pytest.raises(DefinitionError) as failure:
        make_workflow("conversation.created", [{"type": "custom_action", "config": {"action": "nope"}}])
    assert 'No custom action "nope"' in " ".join(failure.value.errors["steps[0].config.action"])


def test_action_unpublished_after_saving_fails_the_step(httpserver, auvious, make_workflow, contact):
    tokens, room = serve_auvious(httpserver)
    workflow = make_workflow("conversation.created", [auvious_step()])
    auvious.published = False
    auvious.save()
    conversations.conversation_open(contact=contact, channel="phone", subject="Video")
    drain()
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "failed" and "not published" in run.steps.get().error
    assert room.seen == []


def test_server_error_is_retried_with_the_same_idempotency_key(httpserver, auvious, make_workflow, contact):
    tokens, room = serve_auvious(httpserver)
    httpserver.clear_all_handlers()
    httpserver.expect_request("/security/oauth/token").respond_with_handler(tokens)
    httpserver.expect_oneshot_request("/security/facades/room").respond_with_data("busy", status=503)
    httpserver.expect_request("/security/facades/room").respond_with_handler(room)
    run = run_on_new_conversation(make_workflow, contact, [auvious_step()])
    assert run.status == "waiting" and "HTTP 503" in run.steps.get().error
    with clock.travel(dt.timedelta(hours=1)):
        sweep_once()
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    keys = {request.headers["Idempotency-Key"] for request, _ in httpserver.log if request.path.endswith("/room")}
    assert len(keys) == 1


def test_dry_run_shows_the_request_and_reports_bad_input(
    httpserver, auvious, make_workflow, manager_client, conversation
):
    tokens, room = serve_auvious(httpserver)
    good = make_workflow("manual", [auvious_step()], name="good")
    bad = make_workflow("manual", [auvious_step(customerId=5)], name="bad")
    report = manager_client.post(
        f"/api/workflows/{good.pk}/test/", {"conversation": conversation.pk}, format="json"
    ).json()
    step = report["steps"][0]
    assert step["status"] != "failed", step
    assert step["output"]["request"]["url"].endswith("/security/facades/room")
    assert step["output"]["request"]["json"]["interactionId"] == f"conv-{conversation.pk}"
    report = manager_client.post(
        f"/api/workflows/{bad.pk}/test/", {"conversation": conversation.pk}, format="json"
    ).json()
    assert report["steps"][0]["status"] == "failed"
    assert "input.customerId: 5 is not of type 'string'" in report["steps"][0]["error"]
    assert room.seen == [], "a dry run sends nothing"

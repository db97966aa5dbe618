"""No secret leaks. Distinctive secrets go into integrations (a basic password, a bearer token, OAuth2 client
secrets, a named secret used in an http_request header template); workflows that succeed and fail run against a
remote that echoes every credential back (in success bodies, error bodies, OAuth error descriptions) and through
raised exceptions. Then no API response, admin page, step result, run error or database row may hold any of them,
while the remote proves it really received them."""

import base64
import json
import logging

import pytest
from django.db import connection
from django.test import Client
from werkzeug import Request, Response

from conversations import services as conversations
from tests.support.outbound import TokenEndpoint
from tests.support.runs import drain
from workflows.integrations.custom_actions import custom_action_save
from workflows.integrations.services import integration_save
from workflows.models import Integration, StepRun, WorkflowRun
from workflows.outbound.client import OutboundRequest
from workflows.steps.outbound import OutboundStep
from workflows.steps.registry import step_types

BASIC_PASSWORD = "LEAK-basic-pw-9f3a1"
BEARER_TOKEN = "LEAK-bearer-tok-71c2"
OAUTH_SECRET = "LEAK-oauth-cs-55e1"
OAUTH_REFUSED_SECRET = "LEAK-oauth-refused-cs-6d02"
NAMED_SECRET = "LEAK-named-3b8d"
ACCESS_TOKEN_PREFIX = "LEAK-access-tok-"
SECRETS = (BASIC_PASSWORD, BEARER_TOKEN, OAUTH_SECRET, OAUTH_REFUSED_SECRET, NAMED_SECRET, ACCESS_TOKEN_PREFIX)
# The Basic header carries the password base64-encoded: that form must not leak either.
ENCODED_BASIC = base64.b64encode(f"crm-user:{BASIC_PASSWORD}".encode()).decode()


def echo(request: Request) -> Response:
    """The careless remote: answers with everything it was sent, with the status the path asks for."""
    status = int(request.path.rsplit("/", 1)[-1])
    body = {
        "headers": dict(request.headers),
        "body": request.get_data(as_text=True),
        "message": f"you sent {request.headers.get('Authorization')} and {request.headers.get('X-Named')}",
    }
    return Response(json.dumps(body), status=status, content_type="application/json")


def refusing_token_endpoint(request: Request) -> Response:
    """A token endpoint that refuses the client and quotes the secret it got in its error description."""
    secret = (
        request.form.get("client_secret")
        or base64.b64decode(request.headers.get("Authorization", "Basic ").removeprefix("Basic ")).decode()
    )
    return Response(
        json.dumps({"error": "invalid_client", "error_description": f"bad secret {secret}"}),
        status=401,
        content_type="application/json",
    )


class LeakyStep(OutboundStep):
    """A step with a bug: it crashes with its rendered secret in the exception text."""

    type = "leaky_test_step"
    label = "Leaky test step"
    templated = ("token",)
    schema = {"type": "object"}

    def build_request(self, rendered: dict, integration, ctx) -> OutboundRequest:
        raise RuntimeError(f"crashed while holding {rendered['token']}")


@pytest.fixture
def world(httpserver, allow_loopback, settings, make_workflow, contact):
    """Integrations with the secrets, workflows that use them, one conversation that starts them all."""
    settings.HELPDESK_RETRY_MAX_ATTEMPTS = 1
    httpserver.expect_request("/token", method="POST").respond_with_handler(
        TokenEndpoint("cid", OAUTH_SECRET, prefix=ACCESS_TOKEN_PREFIX)
    )
    httpserver.expect_request("/refusing-token", method="POST").respond_with_handler(refusing_token_endpoint)
    for status in (200, 400, 422):
        httpserver.expect_request(f"/echo/{status}").respond_with_handler(echo)
    base = httpserver.url_for("/")
    integration_save(
        name="crm",
        base_url=base,
        auth={"type": "basic", "username": "crm-user", "password": BASIC_PASSWORD},
        secrets={"crm_token": NAMED_SECRET},
    )
    integration_save(name="api", base_url=base, auth={"type": "bearer", "token": BEARER_TOKEN})
    oauth = integration_save(
        name="oauth",
        base_url=base,
        auth={
            "type": "oauth2_client_credentials",
            "client_id": "cid",
            "client_secret": OAUTH_SECRET,
            "token_url": httpserver.url_for("/token"),
        },
        secrets={"crm_token": NAMED_SECRET},
    )
    refused = integration_save(
        name="refused",
        base_url=base,
        auth={
            "type": "oauth2_client_credentials",
            "client_id": "cid",
            "client_secret": OAUTH_REFUSED_SECRET,
            "token_url": httpserver.url_for("/refusing-token"),
        },
    )
    echo_action = custom_action_save(
        integration=oauth,
        name="echo_action",
        path="/echo/200",
        published=True,
        input_schema={"type": "object"},
        output_schema={"type": "object"},
    )
    custom_action_save(integration=refused, name="refused_action", path="/echo/200", published=True)
    named_header = [{"key": "X-Named", "value": "Bearer {{ secrets.crm_token }}"}]
    with step_types.register_temporarily(LeakyStep):
        workflows = {
            "succeeds": make_workflow(
                "conversation.created",
                [
                    {
                        "type": "http_request",
                        "config": {
                            "integration": "crm",
                            "path": "/echo/200",
                            "headers": named_header,
                            "values": [{"key": "t", "value": "{{ secrets.crm_token }}"}],
                            "save_as": "crm_echo",
                        },
                    },
                    {
                        "type": "http_request",
                        "config": {"integration": "api", "path": "/echo/200", "save_as": "api_echo"},
                    },
                    {
                        "type": "custom_action",
                        "config": {"action": "echo_action", "input": {"note": "{{ secrets.crm_token }}"}},
                    },
                    {"type": "set_variable", "config": {"name": "copied", "value": "{{ vars.crm_echo.message }}"}},
                ],
                name="succeeds",
            ),
            "error_body": make_workflow(
                "conversation.created",
                [
                    {
                        "type": "http_request",
                        "config": {"integration": "crm", "path": "/echo/400", "headers": named_header},
                    }
                ],
                name="error body",
            ),
            "bearer_error": make_workflow(
                "conversation.created",
                [{"type": "http_request", "config": {"integration": "api", "path": "/echo/422"}}],
                name="bearer error",
            ),
            "oauth_refused": make_workflow(
                "conversation.created",
                [{"type": "custom_action", "config": {"action": "refused_action"}}],
                name="oauth refused",
            ),
            "bad_header": make_workflow(
                "conversation.created",
                [
                    {
                        "type": "http_request",
                        "config": {
                            "integration": "crm",
                            "path": "/echo/200",
                            "headers": [{"key": "X-Named", "value": "{{ secrets.crm_token }}\n"}],
                        },
                    }
                ],
                name="bad header",
            ),
            "crash": make_workflow(
                "conversation.created",
                [{"type": "leaky_test_step", "config": {"integration": "crm", "token": "{{ secrets.crm_token }}"}}],
                name="crash",
            ),
        }
        conversation = conversations.conversation_open(contact=contact, channel="web", subject="Leak test")
        drain()
    return {
        "workflows": workflows,
        "conversation": conversation,
        "echo_action": echo_action,
        "integrations": list(Integration.objects.all()),
    }


def assert_clean(text: str, where: str) -> None:
    for secret in (*SECRETS, ENCODED_BASIC):
        assert secret not in text, f"{secret!r} leaked into {where}"


def run_of(world, key: str) -> WorkflowRun:
    return WorkflowRun.objects.get(workflow=world["workflows"][key])


def test_the_workflows_really_used_the_secrets(world, httpserver):
    """Guard against a vacuous pass: the remote got every secret, and each run ended as designed."""
    received = json.dumps([dict(request.headers) for request, _ in httpserver.log]) + json.dumps(
        [request.get_data(as_text=True) for request, _ in httpserver.log]
    )
    for secret in (ENCODED_BASIC, BEARER_TOKEN, NAMED_SECRET, ACCESS_TOKEN_PREFIX):
        assert secret in received
    assert run_of(world, "succeeds").status == "succeeded", run_of(world, "succeeds").error
    assert run_of(world, "succeeds").variables["copied"] == "you sent Basic **** and Bearer ****"
    for key in ("error_body", "bearer_error", "oauth_refused", "bad_header", "crash"):
        run = run_of(world, key)
        assert run.status == "failed", (key, run.status, run.error)
        assert "****" in run.error, (key, run.error)
    assert "RuntimeError: crashed while holding ****" in run_of(world, "crash").error
    assert "bad secret cid:****" in run_of(world, "oauth_refused").error


def test_no_secret_in_step_results_or_run_errors(world):
    for step in StepRun.objects.all():
        assert_clean(json.dumps([step.input, step.output, step.error]), f"step {step.position} of run {step.run_id}")
    for run in WorkflowRun.objects.all():
        assert_clean(json.dumps([run.error, run.variables]), f"run {run.pk}")


def test_no_secret_in_any_database_row(world):
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            assert_clean(" ".join(str(value) for row in cursor.fetchall() for value in row), f"table {table}")


def test_no_secret_in_api_responses(world, manager_client):
    urls = ["/api/integrations/", "/api/custom-actions/", "/api/workflow-runs/?page_size=200", "/api/workflows/"]
    urls += [f"/api/integrations/{integration.pk}/" for integration in world["integrations"]]
    urls += [f"/api/workflow-runs/{run.pk}/" for run in WorkflowRun.objects.all()]
    for url in urls:
        response = manager_client.get(url)
        assert response.status_code == 200, url
        assert_clean(response.content.decode(), url)
    tested = manager_client.post(
        f"/api/custom-actions/{world['echo_action'].pk}/test/", {"input": {"x": 1}}, format="json"
    )
    assert tested.status_code == 200 and tested.json()["status_code"] == 200
    assert_clean(tested.content.decode(), "custom action test")


def test_no_secret_in_dry_runs(world, manager_client):
    for key in world["workflows"]:
        if key == "crash":
            continue  # its step type only exists inside the fixture
        response = manager_client.post(
            f"/api/workflows/{world['workflows'][key].pk}/test/",
            {"conversation": world["conversation"].pk},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert_clean(response.content.decode(), f"dry run of {key}")


def test_no_secret_in_admin_pages(world, manager):
    browser = Client()
    browser.force_login(manager)
    pages = ["/admin/workflows/integration/", "/admin/workflows/workflowrun/", "/admin/workflows/customaction/"]
    pages += [f"/admin/workflows/integration/{integration.pk}/change/" for integration in world["integrations"]]
    pages += [f"/admin/workflows/workflowrun/{run.pk}/change/" for run in WorkflowRun.objects.all()]
    for page in pages:
        response = browser.get(page)
        assert response.status_code == 200, page
        assert_clean(response.content.decode(), page)
    tested = browser.post(f"/admin/workflows/customaction/{world['echo_action'].pk}/test/", {"input": "{}"})
    assert '<td id="result-status">200</td>' in tested.content.decode()
    assert_clean(tested.content.decode(), "admin test action page")


def test_no_secret_in_log_records(caplog, world):
    records = caplog.get_records("setup")
    assert any("crashed" in record.getMessage() for record in records), "the crash is logged"
    for record in records:
        assert_clean(logging.Formatter().format(record), f"log record {record.name}")
        assert record.exc_info is None or record.levelno < logging.WARNING


def test_the_speech_api_key_from_settings_is_masked(settings, db):
    from workflows.integrations.secrets import mask, secret_values

    settings.HELPDESK_SPEECH_CLOUD_API_KEY = "goog-key-5566778899"
    assert mask("400 Bad key goog-key-5566778899", secret_values()) == "400 Bad key ****"

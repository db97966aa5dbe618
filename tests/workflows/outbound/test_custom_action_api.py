"""`/api/custom-actions/` and `POST /api/custom-actions/{id}/test/` (docs/api.md): managers only, schemas checked on
save, and "Test action" answers 200 `{"status_code", "response", "valid", "errors"}` — schema failures included,
nothing raised. The Talkdesk seed's auvious example is the fixture, against a local fake auvious."""

import pytest

from tests.support.outbound import AUVIOUS_ROOM, auvious_fixture, serve_auvious
from workflows.integrations.services import integration_save
from workflows.models import CustomAction

URL = "/api/custom-actions/"


@pytest.fixture
def integration(httpserver, allow_loopback):
    return integration_save(
        name="auvious",
        base_url=httpserver.url_for("/"),
        auth={
            "type": "oauth2_client_credentials",
            "client_id": "talkdesk-connect",
            "client_secret": "auv-client-secret",
            "token_url": httpserver.url_for("/security/oauth/token"),
        },
    )


@pytest.fixture
def action(manager_client, integration):
    """Made as the seed's step 3 says: POST /security/facades/room with its two schemas, then published."""
    response = manager_client.post(
        URL,
        {
            "integration": "auvious",
            "name": "Create room",
            "method": "POST",
            "path": "/security/facades/room",
            "input_schema": auvious_fixture("input_schema"),
            "output_schema": auvious_fixture("output_schema"),
            "published": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_create_reads_back_the_spec_shape(action, integration):
    assert action["integration"] == integration.pk and action["integration_name"] == "auvious"
    assert action["method"] == "POST" and action["path"] == "/security/facades/room" and action["published"] is True
    assert action["input_schema"]["required"] == ["applicationId", "cdestination", "customerId", "interactionId"]


def test_publish_flag_can_be_toggled(manager_client, action):
    response = manager_client.patch(f"{URL}{action['id']}/", {"published": False}, format="json")
    assert response.status_code == 200 and response.json()["published"] is False
    assert CustomAction.objects.get().published is False
    assert CustomAction.objects.get().input_schema == auvious_fixture("input_schema")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"input_schema": {"type": "nonsense"}}, "input_schema"),
        ({"output_schema": ["not", "an", "object"]}, "output_schema"),
        ({"method": "TRACE"}, "method"),
        ({"integration": "missing"}, "integration"),
        ({"path": "https://elsewhere.example.com/x"}, "path"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_400_naming_the_field(manager_client, integration, change, field):
    body = {"integration": integration.pk, "name": "lookup", "path": "/lookup", **change}
    response = manager_client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_agents_get_403(agent_client, action):
    assert agent_client.get(URL).status_code == 403
    assert agent_client.post(f"{URL}{action['id']}/test/", {"input": {}}, format="json").status_code == 403


def test_seed_test_action_succeeds_against_fake_auvious(manager_client, httpserver, action):
    tokens, room = serve_auvious(httpserver)
    response = manager_client.post(
        f"{URL}{action['id']}/test/", {"input": auvious_fixture("test_input")}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"status_code": 200, "response": AUVIOUS_ROOM, "valid": True, "errors": []}
    assert room.seen[0]["json"] == auvious_fixture("test_input") and room.seen[0]["token"] == "tok-1"
    assert tokens.requests[0]["form"]["grant_type"] == "client_credentials"


def test_input_breaking_the_schema_is_reported_and_nothing_sent(manager_client, httpserver, action):
    tokens, room = serve_auvious(httpserver)
    bad = {"applicationId": "a", "cdestination": "standalone", "customerId": 5}
    response = manager_client.post(f"{URL}{action['id']}/test/", {"input": bad}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False and body["status_code"] is None and body["response"] is None
    assert "input: 'interactionId' is a required property" in body["errors"]
    assert "input.customerId: 5 is not of type 'string'" in body["errors"]
    assert room.seen == [] and tokens.requests == []


def test_output_breaking_the_schema_is_reported_with_the_response(manager_client, httpserver, action):
    serve_auvious(httpserver, body={"agentUrl": "https://a"})
    response = manager_client.post(
        f"{URL}{action['id']}/test/", {"input": auvious_fixture("test_input")}, format="json"
    )
    body = response.json()
    assert response.status_code == 200 and body["status_code"] == 200 and body["valid"] is False
    assert body["response"] == {"agentUrl": "https://a"}
    assert "output: 'recordingUrl' is a required property" in body["errors"]


def test_remote_error_is_reported_with_status_and_body(manager_client, httpserver, action):
    serve_auvious(httpserver)
    httpserver.clear_all_handlers()
    httpserver.expect_request("/security/oauth/token").respond_with_json(
        {"access_token": "x", "token_type": "Bearer", "expires_in": 60}
    )
    httpserver.expect_request("/security/facades/room").respond_with_json(
        {"message": "unknown application"}, status=404
    )
    response = manager_client.post(
        f"{URL}{action['id']}/test/", {"input": auvious_fixture("test_input")}, format="json"
    )
    body = response.json()
    assert response.status_code == 200
    assert body["status_code"] == 404 and body["response"] == {"message": "unknown application"}
    assert body["valid"] is False and body["errors"][0].startswith("request: HTTP 404")


def test_unpublished_action_can_still_be_tested(manager_client, httpserver, action):
    serve_auvious(httpserver)
    manager_client.patch(f"{URL}{action['id']}/", {"published": False}, format="json")
    response = manager_client.post(
        f"{URL}{action['id']}/test/", {"input": auvious_fixture("test_input")}, format="json"
    )
    assert response.json()["valid"] is True


def test_test_of_unknown_action_is_404(manager_client, db):
    assert manager_client.post(f"{URL}999/test/", {"input": {}}, format="json").status_code == 404


def test_list_query_count_does_not_grow_with_actions(manager_client, integration, django_assert_max_num_queries):
    for number in range(8):
        manager_client.post(URL, {"integration": integration.pk, "name": f"a{number}", "path": "/x"}, format="json")
    with django_assert_max_num_queries(6):
        response = manager_client.get(URL)
    assert response.json()["count"] == 8

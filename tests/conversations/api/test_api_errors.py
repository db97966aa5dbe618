"""Bad input never makes a 500: 400 with field messages, 401 without credentials, 403 without a role, 404 for
unknown ids. Also session auth with CSRF, and the OpenAPI schema and docs pages."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from conversations.models import Conversation, Event

HUGE = "9" * 30


def post_json(client, url, raw: str):
    return client.generic("POST", url, raw, content_type="application/json")


@pytest.mark.parametrize("raw", ['{"contact": ', "not json", "[1, 2]", "null", '"text"', "{'single': 1}"])
def test_malformed_or_non_object_json_is_400(agent_client, contact, raw):
    response = post_json(agent_client, "/api/conversations/", raw)
    assert response.status_code == 400
    assert isinstance(response.json(), dict)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "email"}, "contact"),
        ({"contact": "abc", "channel": "email"}, "contact"),
        ({"contact": 999999, "channel": "email"}, "contact"),
        ({"contact": int(HUGE), "channel": "email"}, "contact"),
        ({"contact": None, "channel": "email"}, "contact"),
        ({"channel": 5}, "channel"),
        ({"channel": "fax"}, "channel"),
        ({"channel": "email", "subject": "x" * 301}, "subject"),
        ({"channel": "email", "subject": ["a"]}, "subject"),
        ({"channel": "email", "priority": None}, "priority"),
        ({"channel": "email", "priority": "asap"}, "priority"),
        ({"channel": "email", "team": {"id": 1}}, "team"),
        ({"channel": "email", "team": "No such team"}, "team"),
        ({"channel": "email", "status": "open"}, "status"),
    ],
)
def test_bad_conversation_bodies_are_400_naming_the_field(agent_client, contact, body, field):
    payload = {"contact": contact.pk, **body} if "contact" not in body and field != "contact" else body
    response = agent_client.post("/api/conversations/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": None}, "status"),
        ({"priority": 3}, "priority"),
        ({"tags": "vip"}, "tags"),
        ({"tags": ["x" * 101]}, "tags"),
        ({"tags": [""]}, "tags"),
        ({"tags": [None]}, "tags"),
        ({"assignee": True}, "assignee"),
        ({"assignee": int(HUGE)}, "assignee"),
        ({"team": ""}, "team"),
        ({"disposition": "closed"}, "disposition"),
    ],
)
def test_bad_patches_are_400_and_record_nothing(agent_client, conversation, body, field):
    before = Event.objects.count()
    response = agent_client.patch(f"/api/conversations/{conversation.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Event.objects.count() == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/conversations/999999/",
        "/api/conversations/abc/",
        f"/api/conversations/{HUGE}/",
        "/api/contacts/999999/",
        "/api/contacts/x/",
        "/api/teams/999999/",
        "/api/tickets/999999/",
        f"/api/conversations/{HUGE}/messages/",
        "/api/conversations/999999/recordings/",
    ],
)
def test_unknown_ids_in_the_url_are_404(agent_client, url):
    response = agent_client.get(url)
    assert response.status_code == 404
    assert "detail" in response.json()


def test_patch_unknown_conversation_is_404(agent_client):
    assert agent_client.patch("/api/conversations/999999/", {"status": "open"}, format="json").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/conversations/",
        "/api/contacts/",
        "/api/teams/",
        "/api/tickets/",
        "/api/conversations/1/messages/",
        "/api/conversations/1/recordings/",
    ],
)
def test_no_credentials_is_401(anon_client, conversation, url):
    assert anon_client.get(url).status_code == 401
    assert anon_client.post(url, {}, format="json").status_code == 401


def test_wrong_token_is_401(conversation):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/conversations/").status_code == 401


def test_user_without_a_role_is_403(db, conversation):
    client = APIClient()
    client.force_authenticate(User.objects.create_user("visitor", password="x"))
    assert client.get("/api/conversations/").status_code == 403
    assert client.patch(f"/api/conversations/{conversation.pk}/", {"status": "open"}, format="json").status_code == 403


def test_session_auth_needs_csrf_and_works_with_it(agent, contact):
    client = APIClient(enforce_csrf_checks=True)
    client.get("/admin/login/")  # any HTML page with a form hands out the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    assert client.login(username="agent", password="pw-agent")
    body = {"contact": contact.pk, "channel": "web", "subject": "From the browser"}
    refused = client.post("/api/conversations/", body, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    created = client.post("/api/conversations/", body, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert created.status_code == 201, created.json()
    assert Event.objects.get(type="conversation.created").depth == 0


def test_schema_and_docs_load(agent_client):
    schema = agent_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/conversations/",
        "/api/conversations/{id}/",
        "/api/conversations/{conversation_pk}/messages/",
        "/api/conversations/{conversation_pk}/recordings/",
        "/api/contacts/",
        "/api/teams/",
        "/api/tickets/",
        "/api/surveys/{token}/answer/",
    ):
        assert path in paths
    assert agent_client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/teams/1.5/", "/api/conversations/1e-3/messages/", "/api/no-such-thing/"])
def test_an_api_path_no_route_matches_is_a_json_404(agent_client, path):
    response = agent_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_a_page_no_route_matches_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")

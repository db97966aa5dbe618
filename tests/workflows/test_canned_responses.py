"""Canned responses: saved answers with placeholders, shared (managers) or personal (any agent), filled from the open
conversation and inserted into the reply box; nothing is sent by rendering one."""

import pytest
from django.urls import reverse

from conversations.models import Message
from conversations.roles import AGENTS_GROUP
from tests.support.people import client_for, make_user
from workflows.engine import canned
from workflows.models import CannedResponse

API = "/api/canned-responses/"
THANKS = 'Hi {{ contact.name }}, thanks for writing about "{{ conversation.subject }}".'


def test_manager_shares_a_response_and_agents_render_it(manager_client, agent_client, conversation):
    created = manager_client.post(API, {"name": "Thanks", "body": THANKS}, format="json")
    assert created.status_code == 201 and created.json()["personal"] is False

    listed = agent_client.get(API).json()
    names = [row["name"] for row in listed["results"]] if isinstance(listed, dict) else [r["name"] for r in listed]
    assert names == ["Thanks"]

    rendered = agent_client.post(
        f"{API}{created.json()['id']}/render/", {"conversation": conversation.pk}, format="json"
    )
    assert rendered.status_code == 200
    assert rendered.json() == {"text": 'Hi Ada Lovelace, thanks for writing about "Printer on fire".'}
    assert not Message.objects.filter(conversation=conversation, sender_type="agent").exists()


def test_agent_makes_only_personal_responses_and_others_do_not_see_them(agent_client, roles, conversation):
    shared = agent_client.post(API, {"name": "Mine", "body": "Hello"}, format="json")
    assert shared.status_code == 403

    mine = agent_client.post(API, {"name": "Mine", "body": "Hello", "personal": True}, format="json")
    assert mine.status_code == 201 and mine.json()["owner"] == "agent"

    other = make_user("bob", AGENTS_GROUP)
    assert client_for(other).get(f"{API}{mine.json()['id']}/").status_code == 404


def test_agent_cannot_change_a_shared_response(agent_client, manager):
    item = canned.canned_response_create(name="Shared", body="Hello")

    response = agent_client.patch(f"{API}{item.pk}/", {"body": "Changed"}, format="json")

    assert response.status_code == 403
    item.refresh_from_db()
    assert item.body == "Hello"


@pytest.mark.parametrize("body, field", [("", "body"), ("{{ contact.name ", "body"), ("{{ x._secret }}", "body")])
def test_bad_body_is_a_400_naming_the_field(manager_client, body, field):
    response = manager_client.post(API, {"name": "Bad", "body": body}, format="json")

    assert response.status_code == 400 and field in response.json()
    assert not CannedResponse.objects.exists()


def test_duplicate_shared_name_is_a_400(manager_client):
    canned.canned_response_create(name="Thanks", body="Hello")

    response = manager_client.post(API, {"name": "thanks", "body": "Hi"}, format="json")

    assert response.status_code == 400 and "exists already" in str(response.json()["name"])


def test_render_of_unknown_conversation_is_a_400(manager_client):
    item = canned.canned_response_create(name="Thanks", body="Hello")

    response = manager_client.post(f"{API}{item.pk}/render/", {"conversation": 424242}, format="json")

    assert response.status_code == 400 and "conversation" in response.json()


def test_workspace_offers_the_picker_and_fills_the_text(agent_browser, agent, conversation):
    item = canned.canned_response_create(name="Thanks", body=THANKS)
    canned.canned_response_create(name="Someone else's", body="x", owner=make_user("bob", AGENTS_GROUP))
    page = agent_browser.get(reverse("admin:conversations_conversation_change", args=[conversation.pk]))
    html = page.content.decode()
    assert f'<option value="{item.pk}">Thanks</option>' in html and "Someone else" not in html

    url = reverse("admin:workflows_cannedresponse_render", args=[conversation.pk])
    answer = agent_browser.post(url, {"canned": item.pk})

    assert answer.json() == {"text": 'Hi Ada Lovelace, thanks for writing about "Printer on fire".'}
    assert agent_browser.post(url, {"canned": "nope"}).status_code == 400


def test_manager_adds_one_in_admin_and_a_template_error_is_a_form_error(manager_browser):
    add = reverse("admin:workflows_cannedresponse_add")

    bad = manager_browser.post(add, {"name": "Broken", "body": "{{ contact.name "})
    assert bad.status_code == 200 and "Template error" in bad.content.decode()

    good = manager_browser.post(add, {"name": "Thanks", "body": THANKS})
    assert good.status_code == 302 and CannedResponse.objects.get().name == "Thanks"

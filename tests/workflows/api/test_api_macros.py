"""Macros over the API (docs/managers.md): managers create them, agents list and apply them; an apply changes the
conversation at once, as the agent, and records each change as the same domain event a person's change records."""

import pytest

from conversations import services
from conversations.models import Event, Message
from workflows.models import Macro, WorkflowRun

MACROS = "/api/macros/"
REFUND_STEPS = [
    {"type": "add_tag", "config": {"tags": ["refund"]}},
    {"type": "set_priority", "config": {"priority": "high"}},
    {"type": "change_status", "config": {"status": "pending"}},
    {"type": "auto_reply", "config": {"text": "Hi {{ contact.name }}, your refund is on its way."}},
]


def apply_url(conversation) -> str:
    return f"/api/conversations/{conversation.pk}/apply-macro/"


@pytest.fixture
def refund_macro(manager_client) -> Macro:
    response = manager_client.post(MACROS, {"name": "Refund sent", "steps": REFUND_STEPS}, format="json")
    assert response.status_code == 201, response.json()
    return Macro.objects.get(pk=response.json()["id"])


def test_manager_creates_macro(manager_client, manager):
    response = manager_client.post(MACROS, {"name": "Refund sent", "steps": REFUND_STEPS}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["active"], body["created_by"]) == ("Refund sent", True, "manager")
    assert [step["type"] for step in body["steps"]] == ["add_tag", "set_priority", "change_status", "auto_reply"]


def test_agent_cannot_create_macro(agent_client):
    response = agent_client.post(MACROS, {"name": "Mine", "steps": REFUND_STEPS}, format="json")

    assert response.status_code == 403
    assert not Macro.objects.exists()


def test_agent_lists_macros(agent_client, refund_macro):
    response = agent_client.get(MACROS)

    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Refund sent"]


def test_agent_cannot_delete_macro(agent_client, refund_macro):
    assert agent_client.delete(f"{MACROS}{refund_macro.pk}/").status_code == 403


def test_non_internal_step_is_refused_naming_the_step(manager_client):
    steps = [
        {"type": "add_tag", "config": {"tags": ["x"]}},
        {"type": "http_request", "config": {"url": "https://crm.example.com/", "method": "GET"}},
    ]

    response = manager_client.post(MACROS, {"name": "Call CRM", "steps": steps}, format="json")

    assert response.status_code == 400
    assert "not an internal step type" in response.json()["steps[1].type"][0]


def test_bad_step_config_is_refused_naming_the_key(manager_client):
    steps = [{"type": "set_priority", "config": {"priority": "sky-high"}}]

    response = manager_client.post(MACROS, {"name": "Bad", "steps": steps}, format="json")

    assert response.status_code == 400
    assert "steps[0].config.priority" in response.json()


def test_duplicate_macro_name_is_refused(manager_client, refund_macro):
    response = manager_client.post(MACROS, {"name": "refund sent", "steps": REFUND_STEPS}, format="json")

    assert response.status_code == 400
    assert "exists already" in response.json()["name"][0]


def test_apply_macro_changes_conversation_as_the_agent(agent_client, agent, conversation, refund_macro):
    response = agent_client.post(apply_url(conversation), {"macro": refund_macro.pk}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["priority"], body["tags"]) == ("pending", "high", ["refund"])
    reply = Message.objects.get(conversation=conversation)
    assert (reply.sender_type, reply.author, reply.body) == (
        "agent",
        agent,
        "Hi Ada Lovelace, your refund is on its way.",
    )
    events = Event.objects.filter(conversation=conversation).exclude(type="conversation.created")
    assert {event.type for event in events} >= {
        "conversation.tags_changed",
        "conversation.priority_changed",
        "conversation.status_changed",
        "message.created",
    }
    assert {event.depth for event in events} == {0}
    status_event = events.get(type="conversation.status_changed")
    assert status_event.payload["actor_id"] == agent.pk
    assert not WorkflowRun.objects.exists()


def test_unknown_macro_is_a_400(agent_client, conversation):
    response = agent_client.post(apply_url(conversation), {"macro": 9999}, format="json")

    assert response.status_code == 400
    assert "macro" in response.json()


def test_apply_to_unknown_conversation_is_a_404(agent_client, refund_macro):
    response = agent_client.post("/api/conversations/9999/apply-macro/", {"macro": refund_macro.pk}, format="json")

    assert response.status_code == 404


def test_switched_off_macro_is_a_400_and_changes_nothing(agent_client, conversation, refund_macro):
    Macro.objects.filter(pk=refund_macro.pk).update(active=False)

    response = agent_client.post(apply_url(conversation), {"macro": refund_macro.pk}, format="json")

    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.priority == "normal"


def test_failing_step_rolls_whole_macro_back(manager_client, agent_client, conversation):
    billing = services.team_create(name="Billing")
    steps = [
        {"type": "add_tag", "config": {"tags": ["first"]}},
        {"type": "route", "config": {"team": "Billing", "strategy": "specific"}},
    ]
    macro = manager_client.post(MACROS, {"name": "Route away", "steps": steps}, format="json").json()
    billing.delete()  # the team went away after the macro was saved

    response = agent_client.post(apply_url(conversation), {"macro": macro["id"]}, format="json")

    assert response.status_code == 400
    assert "steps[1]" in response.json()
    assert not conversation.tags.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "steps": REFUND_STEPS},
        {"name": "No steps list", "steps": {"type": "add_tag"}},
        {"name": "Step not an object", "steps": ["add_tag"]},
        {"name": "Unknown type", "steps": [{"type": "teleport", "config": {}}]},
        {"name": "Type not text", "steps": [{"type": {}, "config": {}}]},
        {"name": "Bad template", "steps": [{"type": "auto_reply", "config": {"text": "{{ contact.name "}}]},
        {"steps": REFUND_STEPS},
    ],
)
def test_bad_macro_bodies_are_400s(manager_client, body):
    response = manager_client.post(MACROS, body, format="json")

    assert response.status_code == 400, response.content
    assert not Macro.objects.exists()


@pytest.mark.parametrize("macro", ["abc", None, 10**30, -1, [1]])
def test_bad_macro_reference_is_a_400(agent_client, conversation, macro):
    response = agent_client.post(apply_url(conversation), {"macro": macro}, format="json")

    assert response.status_code == 400
    assert "macro" in response.json()

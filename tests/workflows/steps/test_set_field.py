"""The `set_field` step (docs/managers.md) end to end through the real engine: a manager saves the workflow over the
API, a customer message arrives over the API, the work is drained as the sweep does it, and the conversation field or
the contact attribute is read back with the event it recorded (at depth 1). Save-time validation and the dry run too."""

import pytest

from conversations import services
from conversations.models import Event
from tests.support.runs import drain, the_run

URL = "/api/workflows/"


@pytest.fixture
def fields(db):
    services.conversation_field_create(key="order_id", label="Order number", type="text")
    services.conversation_field_create(key="reason", label="Reason", type="select", options=["refund", "billing"])
    services.conversation_field_create(key="items", label="Items", type="number")


def save(client, *steps, status="active"):
    return client.post(
        URL,
        {
            "name": "Set fields",
            "status": status,
            "steps": list(steps),
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        },
        format="json",
    )


def customer_says(client, conversation, body):
    response = client.post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": body, "sender_type": "customer"}, format="json"
    )
    assert response.status_code == 201, response.json()
    drain()


def test_set_field_writes_a_conversation_field_from_a_template(manager_client, agent_client, conversation, fields):
    response = save(
        manager_client,
        {
            "type": "set_field",
            "config": {"target": "conversation", "key": "order_id", "value": "{{ message.body | upper }}"},
        },
        {"type": "set_field", "config": {"target": "conversation", "key": "items", "value": "3"}},
        {"type": "set_field", "config": {"target": "conversation", "key": "reason", "value": "refund"}},
    )
    assert response.status_code == 201, response.json()
    customer_says(agent_client, conversation, "a-17")
    run = the_run(manager_client, response.json()["id"])
    assert run["status"] == "succeeded", run["error"]
    body = agent_client.get(f"/api/conversations/{conversation.pk}/").json()
    assert body["fields"] == {"order_id": "A-17", "items": 3, "reason": "refund"}
    changes = list(Event.objects.filter(conversation=conversation, type="conversation.fields_changed"))
    assert [event.payload["keys"] for event in changes] == [["order_id"], ["items"], ["reason"]]
    assert {event.depth for event in changes} == {1}


def test_set_field_writes_a_contact_attribute(manager_client, agent_client, conversation, contact):
    response = save(
        manager_client,
        {"type": "set_field", "config": {"target": "contact", "key": "last_topic", "value": "{{ message.body }}"}},
    )
    assert response.status_code == 201, response.json()
    customer_says(agent_client, conversation, "billing question")
    assert the_run(manager_client, response.json()["id"])["status"] == "succeeded"
    attributes = agent_client.get(f"/api/contacts/{contact.pk}/").json()["attributes"]
    assert attributes["last_topic"] == "billing question"
    assert attributes["plan"] == "enterprise"  # other memory kept
    [event] = Event.objects.filter(contact=contact, type="contact.updated")
    assert event.payload["attributes"] == ["last_topic"] and event.depth == 1


def test_a_rendered_value_of_the_wrong_type_fails_the_step_naming_the_field(
    manager_client, agent_client, conversation, fields
):
    response = save(
        manager_client,
        {"type": "set_field", "config": {"target": "conversation", "key": "items", "value": "{{ message.body }}"}},
    )
    customer_says(agent_client, conversation, "many")
    run = the_run(manager_client, response.json()["id"])
    assert run["status"] == "failed"
    assert run["steps"][0]["error"] == "fields.items: Expected a number."
    conversation.refresh_from_db()
    assert conversation.fields == {}


@pytest.mark.parametrize(
    "config, key",
    [
        ({"target": "conversation", "key": "colour", "value": "red"}, "steps[0].config.key"),
        ({"target": "conversation", "key": "reason", "value": "weather"}, "steps[0].config.value"),
        ({"target": "conversation", "key": "items", "value": "lots"}, "steps[0].config.value"),
        ({"target": "ticket", "key": "x", "value": "y"}, "steps[0].config.target"),
        ({"target": "contact", "value": "y"}, "steps[0].config"),
    ],
)
def test_a_bad_set_field_step_is_a_400_naming_the_step_and_key(manager_client, fields, config, key):
    response = save(manager_client, {"type": "set_field", "config": config})
    assert response.status_code == 400, response.json()
    assert any(name.startswith(key) for name in response.json()), response.json()


def test_the_dry_run_says_what_it_would_set_and_changes_nothing(manager_client, conversation, fields):
    services.conversation_set_fields(conversation=conversation, fields={"order_id": "OLD"})
    workflow = save(
        manager_client,
        {
            "type": "set_field",
            "config": {"target": "conversation", "key": "order_id", "value": "{{ contact.attributes.plan }}"},
        },
    ).json()["id"]
    report = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()
    [step] = report["steps"]
    assert step["status"] == "would_run"
    assert step["output"]["current"] == "OLD" and "order_id" in step["output"]["would"]
    assert step["input"]["value"] == "enterprise"
    conversation.refresh_from_db()
    assert conversation.fields == {"order_id": "OLD"}


def test_a_change_status_step_cannot_resolve_past_a_required_field(manager_client, agent_client, conversation):
    services.conversation_field_create(key="order_id", label="Order number", required_on_resolve=True)
    workflow = save(manager_client, {"type": "change_status", "config": {"status": "resolved"}}).json()["id"]
    customer_says(agent_client, conversation, "thanks, bye")
    run = the_run(manager_client, workflow)
    assert run["status"] == "failed" and "fields.order_id" in run["steps"][0]["error"]
    conversation.refresh_from_db()
    assert conversation.status != "resolved"

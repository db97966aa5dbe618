"""Conversation fields over the API (docs/managers.md): definitions, values on conversations, typed validation, the
`conversation.fields_changed` event, `required_on_resolve` and the `?field.<key>=` filter."""

import pytest

from conversations import services
from conversations.models import ConversationField, Event


@pytest.fixture
def order_fields(manager_client):
    for body in (
        {"key": "order_id", "label": "Order number", "type": "text", "required_on_resolve": True},
        {"key": "reason", "label": "Reason", "type": "select", "options": ["refund", "billing"]},
        {"key": "amount", "label": "Amount", "type": "number"},
        {"key": "due", "label": "Due", "type": "date"},
        {"key": "vip_case", "label": "VIP case", "type": "checkbox"},
    ):
        response = manager_client.post("/api/conversation-fields/", body, format="json")
        assert response.status_code == 201, response.json()
    return ConversationField.objects.all()


def test_a_manager_defines_fields_and_an_agent_reads_them(order_fields, agent_client):
    listing = agent_client.get("/api/conversation-fields/").json()["results"]
    assert [row["key"] for row in listing] == ["order_id", "reason", "amount", "due", "vip_case"]
    reason = next(row for row in listing if row["key"] == "reason")
    assert (reason["type"], reason["options"], reason["required_on_resolve"]) == (
        "select",
        ["refund", "billing"],
        False,
    )


def test_agents_cannot_define_fields(agent_client):
    response = agent_client.post("/api/conversation-fields/", {"key": "x", "label": "X"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body, key",
    [
        ({"key": "1bad", "label": "Bad"}, "key"),
        ({"key": "kind", "label": "Kind", "type": "select"}, "options"),
        ({"key": "kind", "label": "Kind", "type": "colour"}, "type"),
        ({"key": "kind", "label": "Kind", "options": "a,b"}, "options"),
    ],
)
def test_a_bad_definition_is_a_400_naming_the_key(manager_client, body, key):
    response = manager_client.post("/api/conversation-fields/", body, format="json")
    assert response.status_code == 400 and key in response.json(), response.json()


def test_a_duplicate_key_is_a_400(manager_client, order_fields):
    response = manager_client.post("/api/conversation-fields/", {"key": "order_id", "label": "Again"}, format="json")
    assert response.status_code == 400 and "key" in response.json()


def test_a_manager_updates_and_deletes_a_definition(manager_client, order_fields):
    field = ConversationField.objects.get(key="reason")
    response = manager_client.patch(
        f"/api/conversation-fields/{field.pk}/",
        {"options": ["refund", "billing", "other"], "label": "Reason for contact"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["options"] == ["refund", "billing", "other"]
    assert manager_client.delete(f"/api/conversation-fields/{field.pk}/").status_code == 204
    assert not ConversationField.objects.filter(key="reason").exists()


def test_patch_fields_sets_typed_values_and_records_the_change(agent_client, order_fields, conversation):
    response = agent_client.patch(
        f"/api/conversations/{conversation.pk}/",
        {"fields": {"order_id": "A-1", "reason": "refund", "amount": "12.5", "due": "2026-12-24", "vip_case": True}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["fields"] == {
        "order_id": "A-1",
        "reason": "refund",
        "amount": 12.5,
        "due": "2026-12-24",
        "vip_case": True,
    }
    [event] = Event.objects.filter(conversation=conversation, type="conversation.fields_changed")
    assert event.payload["keys"] == ["amount", "due", "order_id", "reason", "vip_case"]
    assert event.payload["old"]["order_id"] is None and event.payload["new"]["order_id"] == "A-1"
    assert event.depth == 0
    assert agent_client.get(f"/api/conversations/{conversation.pk}/").json()["fields"]["order_id"] == "A-1"


def test_a_second_patch_records_only_what_changed_and_null_clears(agent_client, order_fields, conversation):
    services.conversation_set_fields(conversation=conversation, fields={"order_id": "A-1", "reason": "refund"})
    response = agent_client.patch(
        f"/api/conversations/{conversation.pk}/", {"fields": {"order_id": "A-1", "reason": None}}, format="json"
    )
    assert response.json()["fields"] == {"order_id": "A-1"}
    last = Event.objects.filter(conversation=conversation, type="conversation.fields_changed").last()
    assert last.payload["keys"] == ["reason"] and last.payload["old"] == {"reason": "refund"}


@pytest.mark.parametrize(
    "values, key",
    [
        ({"amount": "lots"}, "fields.amount"),
        ({"reason": "weather"}, "fields.reason"),
        ({"due": "24/12/2026"}, "fields.due"),
        ({"vip_case": "maybe"}, "fields.vip_case"),
        ({"order_id": 42}, "fields.order_id"),
        ({"colour": "red"}, "fields.colour"),
    ],
)
def test_a_wrong_type_or_unknown_key_is_a_400_naming_the_field(agent_client, order_fields, conversation, values, key):
    response = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"fields": values}, format="json")
    assert response.status_code == 400 and key in response.json(), response.json()
    assert not Event.objects.filter(conversation=conversation, type="conversation.fields_changed").exists()


def test_fields_must_be_an_object(agent_client, order_fields, conversation):
    response = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"fields": ["A-1"]}, format="json")
    assert response.status_code == 400 and "fields" in response.json()


def test_resolving_with_an_empty_required_field_is_a_400_naming_it(agent_client, order_fields, conversation):
    response = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"status": "resolved"}, format="json")
    assert response.status_code == 400 and "fields.order_id" in response.json(), response.json()
    conversation.refresh_from_db()
    assert conversation.status == "new"
    response = agent_client.patch(
        f"/api/conversations/{conversation.pk}/", {"status": "resolved", "fields": {"order_id": "A-7"}}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "resolved"


def test_a_closing_disposition_is_refused_too(agent_client, order_fields, conversation):
    response = agent_client.patch(
        f"/api/conversations/{conversation.pk}/", {"disposition": "problem_solved"}, format="json"
    )
    assert response.status_code == 400 and "fields.order_id" in response.json()
    conversation.refresh_from_db()
    assert (conversation.status, conversation.disposition) == ("new", "")


def test_the_list_filters_on_a_field(agent_client, order_fields, contact):
    first = services.conversation_open(contact=contact, channel="email", subject="one")
    second = services.conversation_open(contact=contact, channel="email", subject="two")
    services.conversation_open(contact=contact, channel="email", subject="three")
    services.conversation_set_fields(conversation=first, fields={"reason": "refund", "amount": 5})
    services.conversation_set_fields(
        conversation=second, fields={"reason": "billing", "amount": 7, "vip_case": True, "due": "2026-12-24"}
    )

    def ids(query):
        return [row["id"] for row in agent_client.get(f"/api/conversations/?{query}").json()["results"]]

    assert ids("field.reason=refund") == [first.pk]
    assert sorted(ids("field.reason=refund,billing")) == sorted([first.pk, second.pk])
    assert ids("field.amount=7") == [second.pk]
    assert ids("field.reason=billing&field.amount=5") == []
    assert ids("field.vip_case=true") == [second.pk]
    assert ids("field.due=2026-12-24") == [second.pk]


@pytest.mark.parametrize("query, key", [("field.colour=red", "field.colour"), ("field.amount=lots", "field.amount")])
def test_a_filter_on_an_unknown_field_or_a_wrong_value_is_a_400(agent_client, order_fields, query, key):
    response = agent_client.get(f"/api/conversations/?{query}")
    assert response.status_code == 400 and key in response.json(), response.json()

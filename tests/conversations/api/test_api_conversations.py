"""Conversations over the API: open, read, work them with PATCH, and the events each write records."""

import pytest

from conversations.models import Conversation, Event

READ_FIELDS = {
    "id",
    "contact",
    "channel",
    "subject",
    "status",
    "priority",
    "assignee",
    "team",
    "tags",
    "disposition",
    "sentiment",
    "created_at",
    "updated_at",
    "first_response_at",
    "last_customer_message_at",
    "resolved_at",
}


def events_of(conversation_id: int, type: str) -> list[Event]:
    return list(Event.objects.filter(conversation_id=conversation_id, type=type))


def test_create_conversation_is_new_and_records_event(agent_client, contact, team):
    response = agent_client.post(
        "/api/conversations/",
        {
            "contact": contact.pk,
            "channel": "whatsapp",
            "subject": "Where is my order?",
            "priority": "high",
            "team": "support",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= READ_FIELDS
    assert (body["status"], body["priority"], body["team"], body["contact"]) == ("new", "high", team.pk, contact.pk)
    assert body["tags"] == []
    [event] = events_of(body["id"], "conversation.created")
    assert event.depth == 0
    assert event.payload["channel"] == "whatsapp"


def test_create_with_defaults(agent_client, contact):
    body = agent_client.post("/api/conversations/", {"contact": contact.pk, "channel": "email"}, format="json").json()
    assert (body["priority"], body["subject"], body["team"], body["assignee"]) == ("normal", "", None, None)


def test_retrieve_and_list(agent_client, conversation):
    body = agent_client.get(f"/api/conversations/{conversation.pk}/").json()
    assert body["subject"] == "Printer on fire"
    listing = agent_client.get("/api/conversations/").json()
    assert set(listing) == {"count", "next", "previous", "results"}
    assert [row["id"] for row in listing["results"]] == [conversation.pk]


def test_patch_status_records_status_changed(agent_client, conversation):
    response = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"status": "pending"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    [event] = events_of(conversation.pk, "conversation.status_changed")
    assert (event.payload["from"], event.payload["to"], event.depth) == ("new", "pending", 0)


def test_patch_resolved_sets_resolved_at(agent_client, conversation):
    body = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"status": "resolved"}, format="json").json()
    assert body["resolved_at"] is not None


def test_patch_priority(agent_client, conversation):
    body = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"priority": "urgent"}, format="json").json()
    assert body["priority"] == "urgent"
    assert events_of(conversation.pk, "conversation.priority_changed")[0].depth == 0


def test_patch_assignee_and_team_by_name(agent_client, agent, team, conversation):
    response = agent_client.patch(
        f"/api/conversations/{conversation.pk}/", {"assignee": "agent", "team": "Support"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["assignee"], response.json()["team"]) == (agent.pk, team.pk)
    [event] = events_of(conversation.pk, "conversation.assigned")
    assert (event.payload["assignee_id"], event.payload["team_id"], event.depth) == (agent.pk, team.pk, 0)


def test_patch_assignee_by_id_then_unassign(agent_client, agent, conversation):
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"assignee": agent.pk}, format="json")
    body = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"assignee": None}, format="json").json()
    assert body["assignee"] is None
    assert len(events_of(conversation.pk, "conversation.assigned")) == 2


def test_patch_unknown_team_or_agent_is_400(agent_client, conversation):
    response = agent_client.patch(
        f"/api/conversations/{conversation.pk}/", {"team": "Nope", "assignee": 999999}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"team", "assignee"}
    assert not events_of(conversation.pk, "conversation.assigned")


def test_patch_tags_sets_the_tag_set(agent_client, conversation):
    url = f"/api/conversations/{conversation.pk}/"
    assert agent_client.patch(url, {"tags": ["billing", "vip"]}, format="json").json()["tags"] == ["billing", "vip"]
    assert agent_client.patch(url, {"tags": ["vip", "refund"]}, format="json").json()["tags"] == ["refund", "vip"]
    changes = [e.payload for e in events_of(conversation.pk, "conversation.tags_changed")]
    assert changes == [
        {"added": ["billing", "vip"], "removed": []},
        {"added": [], "removed": ["billing"]},
        {"added": ["refund"], "removed": []},
    ]
    assert {e.depth for e in Event.objects.all()} == {0}


def test_patch_final_disposition_closes(agent_client, conversation):
    body = agent_client.patch(
        f"/api/conversations/{conversation.pk}/", {"disposition": "problem_solved"}, format="json"
    ).json()
    assert (body["disposition"], body["status"]) == ("problem_solved", "closed")
    [event] = events_of(conversation.pk, "conversation.disposition_set")
    assert event.payload == {"disposition": "problem_solved", "final": True, "actor_id": event.payload["actor_id"]}


def test_patch_non_final_disposition_keeps_status(agent_client, conversation):
    body = agent_client.patch(
        f"/api/conversations/{conversation.pk}/", {"disposition": "needs_approval", "status": "open"}, format="json"
    ).json()
    assert (body["disposition"], body["status"]) == ("needs_approval", "open")


def test_patch_with_one_bad_value_changes_nothing(agent_client, conversation):
    response = agent_client.patch(
        f"/api/conversations/{conversation.pk}/", {"priority": "high", "status": "done"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()
    conversation.refresh_from_db()
    assert conversation.priority == "normal"


@pytest.mark.parametrize("client_name", ["agent_client", "manager_client"])
def test_conversations_cannot_be_deleted(request, client_name, conversation):
    client = request.getfixturevalue(client_name)
    assert client.delete(f"/api/conversations/{conversation.pk}/").status_code == 405
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_manager_works_conversations_too(manager_client, conversation):
    response = manager_client.patch(f"/api/conversations/{conversation.pk}/", {"status": "open"}, format="json")
    assert response.status_code == 200


def test_subject_cannot_be_patched(agent_client, conversation):
    response = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"subject": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"subject": ["Unknown field."]}

"""Merge and links (docs/agent_day.md) through the API."""

import pytest

from conversations import services
from conversations.models import Event, Message


@pytest.fixture
def pair(open_conversation):
    source = open_conversation(subject="Order late (second mail)")
    target = open_conversation(subject="Order late")
    services.message_create(conversation=target, body="My order is late", sender_type="customer")
    services.message_create(conversation=source, body="Still late!", sender_type="customer")
    services.message_create(conversation=source, body="checked with carrier", sender_type="agent", internal=True)
    services.conversation_add_tags(conversation=source, tags=["shipping"])
    return source, target


def test_merge_moves_messages_notes_and_tags_in_time_order(agent_client, pair):
    source, target = pair
    response = agent_client.post(f"/api/conversations/{source.pk}/merge/", {"into": target.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["merged_into"]) == ("closed", target.pk)
    thread = agent_client.get(f"/api/conversations/{target.pk}/messages/").json()["results"]
    assert [m["body"] for m in thread] == ["My order is late", "Still late!", "checked with carrier"]
    assert agent_client.get(f"/api/conversations/{source.pk}/messages/").json()["count"] == 0
    assert "shipping" in agent_client.get(f"/api/conversations/{target.pk}/").json()["tags"]
    assert Event.objects.filter(type="conversation.merged", conversation=source).count() == 1
    assert Event.objects.filter(type="conversation.merged", conversation=target).count() == 1


def test_a_later_customer_message_to_the_source_lands_in_the_target(agent_client, pair):
    source, target = pair
    agent_client.post(f"/api/conversations/{source.pk}/merge/", {"into": target.pk}, format="json")
    posted = agent_client.post(
        f"/api/conversations/{source.pk}/messages/", {"body": "Hello again", "sender_type": "customer"}, format="json"
    )
    assert posted.status_code == 201
    assert posted.json()["conversation"] == target.pk
    assert Message.objects.get(body="Hello again").conversation_id == target.pk
    assert agent_client.get(f"/api/conversations/{source.pk}/").json()["status"] == "closed"


@pytest.mark.parametrize("case", ["self", "into_merged", "already_merged", "unknown"])
def test_bad_merges_are_400s(agent_client, open_conversation, pair, case):
    source, target = pair
    third = open_conversation(subject="third")
    if case == "self":
        body, url = {"into": source.pk}, source.pk
    elif case == "unknown":
        body, url = {"into": 987654}, source.pk
    else:
        agent_client.post(f"/api/conversations/{source.pk}/merge/", {"into": target.pk}, format="json")
        body, url = ({"into": source.pk}, third.pk) if case == "into_merged" else ({"into": third.pk}, source.pk)
    response = agent_client.post(f"/api/conversations/{url}/merge/", body, format="json")
    assert response.status_code == 400
    assert "into" in response.json()


def test_no_merge_cycle(agent_client, open_conversation):
    a, b = open_conversation(subject="a"), open_conversation(subject="b")
    assert agent_client.post(f"/api/conversations/{a.pk}/merge/", {"into": b.pk}, format="json").status_code == 200
    assert agent_client.post(f"/api/conversations/{b.pk}/merge/", {"into": a.pk}, format="json").status_code == 400


def test_merge_ends_the_sources_sla_targets(agent_client, manager_client, pair):
    source, target = pair
    policy = manager_client.post(
        "/api/sla-policies/",
        {
            "name": "Email",
            "position": 1,
            "match": {"all": []},
            "business_hours": None,
            "targets": {"first_response": 60, "resolution": 600},
        },
        format="json",
    )
    assert policy.status_code == 201, policy.json()
    fresh = services.conversation_open(contact=source.contact, channel="email", subject="with clocks")
    assert {t["state"] for t in agent_client.get(f"/api/conversations/{fresh.pk}/").json()["sla"]} == {"active"}
    agent_client.post(f"/api/conversations/{fresh.pk}/merge/", {"into": target.pk}, format="json")
    states = {t["state"] for t in agent_client.get(f"/api/conversations/{fresh.pk}/").json()["sla"]}
    assert "active" not in states and "paused" not in states


def test_links_list_both_sides_and_a_parent_waits_for_its_children(agent_client, open_conversation):
    parent, child = open_conversation(subject="Outage"), open_conversation(subject="Customer A down")
    linked = agent_client.post(
        f"/api/conversations/{parent.pk}/links/", {"conversation": child.pk, "kind": "child"}, format="json"
    )
    assert linked.status_code == 200, linked.json()
    assert linked.json()["id"] == parent.pk
    assert agent_client.get(f"/api/conversations/{parent.pk}/links/").json()[0]["kind"] == "child"
    assert agent_client.get(f"/api/conversations/{child.pk}/links/").json()[0] == {
        **agent_client.get(f"/api/conversations/{child.pk}/links/").json()[0],
        "conversation": parent.pk,
        "kind": "parent",
    }
    refused = agent_client.patch(f"/api/conversations/{parent.pk}/", {"status": "resolved"}, format="json")
    assert refused.status_code == 400
    assert f"#{child.pk}" in refused.json()["status"][0]
    agent_client.patch(f"/api/conversations/{child.pk}/", {"status": "resolved"}, format="json")
    assert (
        agent_client.patch(f"/api/conversations/{parent.pk}/", {"status": "resolved"}, format="json").status_code == 200
    )


def test_kind_parent_makes_the_other_the_parent(agent_client, open_conversation):
    child, parent = open_conversation(subject="A"), open_conversation(subject="B")
    agent_client.post(
        f"/api/conversations/{child.pk}/links/", {"conversation": parent.pk, "kind": "parent"}, format="json"
    )
    assert (
        agent_client.patch(f"/api/conversations/{parent.pk}/", {"status": "resolved"}, format="json").status_code == 400
    )


def test_unlinking_and_bad_links(agent_client, open_conversation):
    a, b = open_conversation(subject="A"), open_conversation(subject="B")
    assert (
        agent_client.post(
            f"/api/conversations/{a.pk}/links/", {"conversation": a.pk, "kind": "related"}, format="json"
        ).status_code
        == 400
    )
    assert (
        agent_client.post(
            f"/api/conversations/{a.pk}/links/", {"conversation": b.pk, "kind": "cousin"}, format="json"
        ).status_code
        == 400
    )
    agent_client.post(f"/api/conversations/{a.pk}/links/", {"conversation": b.pk, "kind": "related"}, format="json")
    assert (
        agent_client.post(
            f"/api/conversations/{b.pk}/links/", {"conversation": a.pk, "kind": "related"}, format="json"
        ).status_code
        == 400
    )  # already linked
    removed = agent_client.delete(f"/api/conversations/{b.pk}/links/{a.pk}/")
    assert removed.status_code == 200
    assert agent_client.get(f"/api/conversations/{a.pk}/links/").json() == []
    assert Event.objects.filter(type="conversation.unlinked").count() == 2

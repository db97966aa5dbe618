"""Saved views over the API (docs/agent_day.md): personal and shared views, who sees which, and counts in one query."""

import pytest

from conversations import services
from conversations.roles import AGENTS_GROUP
from tests.support.people import client_for, make_user


@pytest.fixture
def conversations(open_conversation, agent):
    first = open_conversation(subject="Refund please")
    services.conversation_add_tags(conversation=first, tags=["vip"])
    second = open_conversation(subject="Where is my order")
    services.conversation_change_status(conversation=second, status="open")
    third = open_conversation(subject="Invoice")
    services.conversation_assign(conversation=third, assignee=agent)
    return first, second, third


def test_agent_saves_a_personal_view_and_reads_it_back_with_its_count(agent_client, conversations):
    created = agent_client.post("/api/views/", {"name": "My VIPs", "filters": {"tag": "vip"}}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["shared_with"] == "me"
    listed = agent_client.get("/api/views/").json()
    assert [(v["name"], v["count"], v["filters"]) for v in listed["results"]] == [("My VIPs", 1, {"tag": "vip"})]


def test_counts_follow_the_conversation_list_filters(agent_client, agent, conversations):
    agent_client.post("/api/views/", {"name": "New", "filters": {"status": "new"}}, format="json")
    agent_client.post("/api/views/", {"name": "Mine", "filters": {"assignee": "agent"}}, format="json")
    agent_client.post("/api/views/", {"name": "All", "filters": {}}, format="json")
    counts = {v["name"]: v["count"] for v in agent_client.get("/api/views/").json()["results"]}
    for name, filters in [("New", "status=new"), ("Mine", "assignee=agent"), ("All", "")]:
        assert counts[name] == agent_client.get(f"/api/conversations/?{filters}").json()["count"]
    assert counts == {"New": 2, "Mine": 1, "All": 3}


def test_a_page_of_views_is_counted_in_one_query(agent_client, agent, conversations, django_assert_num_queries):
    for index, status in enumerate(["new", "open", "pending", "resolved", "closed"]):
        services_view = {"name": f"View {index}", "filters": {"status": status, "search": "e"}}
        assert agent_client.post("/api/views/", services_view, format="json").status_code == 201
    agent_client.get("/api/views/")  # warm the session/permission caches
    baseline = len(agent_client.get("/api/views/").json()["results"])
    assert baseline == 5
    # auth (token + roles) + page count + page of views + ONE aggregate for all five counts (+ is_manager for editable)
    with django_assert_num_queries(6, exact=False) as captured:
        agent_client.get("/api/views/")
    aggregates = [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT" in q["sql"].upper() and "conversations_conversation" in q["sql"]
    ]
    assert len(aggregates) == 1


def test_only_managers_share_views(agent_client, manager_client, team, conversations):
    refused = agent_client.post(
        "/api/views/", {"name": "Ours", "filters": {}, "shared_with": "everyone"}, format="json"
    )
    assert refused.status_code == 403
    shared = manager_client.post(
        "/api/views/",
        {"name": "Billing escalations", "filters": {"priority": "urgent"}, "shared_with": f"team:{team.pk}"},
        format="json",
    )
    assert shared.status_code == 201
    assert shared.json()["shared_with"] == f"team:{team.pk}"


def test_team_views_are_seen_by_the_team_and_everyone_views_by_all(manager_client, agent, team, roles):
    outsider = make_user("outsider", AGENTS_GROUP)
    agent.agent_profile.teams.add(team)
    manager_client.post(
        "/api/views/", {"name": "Team view", "filters": {}, "shared_with": f"team:{team.pk}"}, format="json"
    )
    manager_client.post(
        "/api/views/", {"name": "Everyone view", "filters": {}, "shared_with": "everyone"}, format="json"
    )
    manager_client.post("/api/views/", {"name": "Manager's own", "filters": {}}, format="json")
    names = lambda user: [v["name"] for v in client_for(user).get("/api/views/").json()["results"]]  # noqa: E731
    assert names(agent) == ["Everyone view", "Team view"]
    assert names(outsider) == ["Everyone view"]


def test_bad_filters_are_400s_naming_the_key(agent_client):
    response = agent_client.post(
        "/api/views/", {"name": "x", "filters": {"status": "sleeping", "colour": "red", "priority": 3}}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert {"filters.colour", "filters.priority"} <= set(body)
    second = agent_client.post("/api/views/", {"name": "x", "filters": {"status": "sleeping"}}, format="json")
    assert "filters.status" in second.json()
    assert agent_client.post("/api/views/", {"name": "x", "shared_with": "team:abc"}, format="json").status_code == 400


def test_owner_edits_and_deletes_a_view_others_cannot(agent_client, roles, conversations):
    view = agent_client.post("/api/views/", {"name": "Mine", "filters": {"status": "new"}}, format="json").json()
    patched = agent_client.patch(f"/api/views/{view['id']}/", {"filters": {"status": "open"}}, format="json")
    assert patched.status_code == 200
    assert patched.json()["count"] == 1
    other = client_for(make_user("other", AGENTS_GROUP))
    assert other.delete(f"/api/views/{view['id']}/").status_code == 404
    assert agent_client.delete(f"/api/views/{view['id']}/").status_code == 204

"""Presence (docs/agent_day.md): heartbeats, and who was seen in the last 30 seconds."""

import datetime as dt

from conversations import clock
from conversations.roles import AGENTS_GROUP
from tests.support.people import client_for, make_user


def test_heartbeats_list_everyone_seen_in_the_last_30_seconds(agent_client, agent, conversation, roles):
    alice = make_user("alice", AGENTS_GROUP)
    url = f"/api/conversations/{conversation.pk}/presence/"
    assert client_for(alice).post(url, {"state": "replying"}, format="json").status_code == 200
    mine = agent_client.post(url, {"state": "viewing"}, format="json")
    assert mine.status_code == 200
    rows = {row["username"]: row for row in agent_client.get(url).json()}
    assert {name: row["state"] for name, row in rows.items()} == {"alice": "replying", "agent": "viewing"}
    assert rows["alice"]["user"] == alice.pk and rows["alice"]["seen_at"]
    with clock.travel(dt.timedelta(seconds=20)):
        agent_client.post(url, {"state": "viewing"}, format="json")
    with clock.travel(dt.timedelta(seconds=31)):
        assert [row["username"] for row in agent_client.get(url).json()] == ["agent"]
    with clock.travel(dt.timedelta(seconds=52)):
        assert agent_client.get(url).json() == []


def test_a_heartbeat_upserts_one_row_per_person(agent_client, conversation):
    url = f"/api/conversations/{conversation.pk}/presence/"
    agent_client.post(url, {"state": "viewing"}, format="json")
    agent_client.post(url, {"state": "replying"}, format="json")
    assert [row["state"] for row in agent_client.get(url).json()] == ["replying"]


def test_bad_presence_input(agent_client, conversation, anon_client):
    url = f"/api/conversations/{conversation.pk}/presence/"
    assert agent_client.post(url, {"state": "sleeping"}, format="json").status_code == 400
    assert (
        agent_client.post("/api/conversations/99999/presence/", {"state": "viewing"}, format="json").status_code == 404
    )
    assert anon_client.get(url).status_code == 401

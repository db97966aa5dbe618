"""Mentions (docs/agent_day.md): @username in an internal note notifies that agent once, by email and in the list."""

from django.core import mail

from conversations.roles import AGENTS_GROUP
from tests.support.people import client_for, make_user


def test_a_mention_in_a_note_notifies_the_agent_once(
    agent_client, conversation, roles, django_capture_on_commit_callbacks
):
    alice = make_user("alice", AGENTS_GROUP)
    with django_capture_on_commit_callbacks(execute=True):
        posted = agent_client.post(
            f"/api/conversations/{conversation.pk}/messages/",
            {"body": "@alice can you check this? cc @alice @nobody", "sender_type": "agent", "internal": True},
            format="json",
        )
    assert posted.status_code == 201
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "agent mentioned you" in mail.outbox[0].subject
    listed = client_for(alice).get("/api/notifications/").json()
    assert listed["unread"] == 1
    [notification] = listed["results"]
    assert (notification["conversation"], notification["actor"], notification["read"]) == (
        conversation.pk,
        "agent",
        False,
    )
    read = client_for(alice).post(f"/api/notifications/{notification['id']}/read/")
    assert read.json()["read"] is True
    assert client_for(alice).get("/api/notifications/").json()["unread"] == 0


def test_replies_and_self_mentions_notify_nobody(agent_client, conversation, roles):
    make_user("alice", AGENTS_GROUP)
    agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": "Hi @alice", "sender_type": "agent"}, format="json"
    )
    agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "note to @agent self, mail me at x@alice", "sender_type": "agent", "internal": True},
        format="json",
    )
    assert mail.outbox == []
    assert agent_client.get("/api/notifications/").json()["count"] == 0


def test_notifications_are_private(agent_client, conversation, roles):
    alice = make_user("alice", AGENTS_GROUP)
    agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "@alice look", "sender_type": "agent", "internal": True},
        format="json",
    )
    [notification] = client_for(alice).get("/api/notifications/").json()["results"]
    assert agent_client.post(f"/api/notifications/{notification['id']}/read/").status_code == 404
    assert client_for(alice).post("/api/notifications/read-all/").json() == {"marked": 1}

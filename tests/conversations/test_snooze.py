"""Snooze (docs/agent_day.md): pending until a time or a customer message, woken by the sweep with an injected clock."""

import datetime as dt

import pytest

from conversations import clock, services
from conversations.models import Event
from workflows.engine.sweep import sweep_once


def _iso(delta: dt.timedelta) -> str:
    return (clock.now() + delta).isoformat()


@pytest.fixture
def assigned(conversation, agent):
    services.conversation_assign(conversation=conversation, assignee=agent)
    services.conversation_change_status(conversation=conversation, status="open")
    return conversation


def _types(conversation) -> list[str]:
    return list(Event.objects.filter(conversation=conversation).order_by("occurred_at").values_list("type", flat=True))


def test_snooze_sets_pending_with_snoozed_until_and_records_the_event(agent_client, assigned):
    response = agent_client.post(
        f"/api/conversations/{assigned.pk}/snooze/", {"until": _iso(dt.timedelta(hours=2))}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    assert response.json()["snoozed_until"]
    assert "conversation.snoozed" in _types(assigned)
    snoozed = agent_client.get("/api/conversations/?snoozed=true").json()
    assert [c["id"] for c in snoozed["results"]] == [assigned.pk]
    assert agent_client.get("/api/conversations/?snoozed=false").json()["count"] == 0


def test_the_sweep_wakes_a_snooze_once_its_time_has_come(agent_client, assigned):
    agent_client.post(
        f"/api/conversations/{assigned.pk}/snooze/", {"until": _iso(dt.timedelta(hours=2))}, format="json"
    )
    sweep_once()
    assert agent_client.get(f"/api/conversations/{assigned.pk}/").json()["status"] == "pending"
    with clock.travel(dt.timedelta(hours=2, seconds=1)):
        assert sweep_once()["snoozes_woken"] == 1
    woken = agent_client.get(f"/api/conversations/{assigned.pk}/").json()
    assert (woken["status"], woken["snoozed_until"]) == ("open", None)
    event = Event.objects.get(conversation=assigned, type="conversation.unsnoozed")
    assert event.payload["reason"] == "time"


def test_a_customer_message_wakes_a_snooze_at_once(agent_client, assigned):
    agent_client.post(f"/api/conversations/{assigned.pk}/snooze/", {"until": _iso(dt.timedelta(days=3))}, format="json")
    agent_client.post(
        f"/api/conversations/{assigned.pk}/messages/", {"body": "Any news?", "sender_type": "customer"}, format="json"
    )
    woken = agent_client.get(f"/api/conversations/{assigned.pk}/").json()
    assert (woken["status"], woken["snoozed_until"]) == ("open", None)
    assert (
        Event.objects.get(conversation=assigned, type="conversation.unsnoozed").payload["reason"] == "customer_message"
    )
    with clock.travel(dt.timedelta(days=4)):
        assert sweep_once()["snoozes_woken"] == 0  # woken once, not twice


def test_an_agent_note_does_not_wake_a_snooze(agent_client, assigned):
    agent_client.post(f"/api/conversations/{assigned.pk}/snooze/", {"until": _iso(dt.timedelta(days=1))}, format="json")
    agent_client.post(
        f"/api/conversations/{assigned.pk}/messages/",
        {"body": "waiting on finance", "sender_type": "agent", "internal": True},
        format="json",
    )
    assert agent_client.get(f"/api/conversations/{assigned.pk}/").json()["status"] == "pending"


@pytest.mark.parametrize("until", ["2001-01-01T09:00:00+00:00", "tomorrow", ""])
def test_a_past_or_bad_time_is_a_400(agent_client, assigned, until):
    response = agent_client.post(f"/api/conversations/{assigned.pk}/snooze/", {"until": until}, format="json")
    assert response.status_code == 400
    assert "until" in response.json()


def test_snoozing_an_unknown_conversation_is_a_404(agent_client, db):
    assert (
        agent_client.post(
            "/api/conversations/999999/snooze/", {"until": _iso(dt.timedelta(days=1))}, format="json"
        ).status_code
        == 404
    )


def test_snoozed_conversations_leave_the_mine_view(assigned, agent):
    from django.test import RequestFactory

    from conversations.admin.workspace import QUICK_VIEWS
    from conversations.models import Conversation

    mine = next(view for view in QUICK_VIEWS if view.key == "mine")
    request = RequestFactory().get("/")
    request.user = agent
    assert list(mine.apply(request, Conversation.objects.all())) == [assigned]
    services.conversation_snooze(conversation=assigned, until=clock.now() + dt.timedelta(hours=1), actor=agent)
    assert list(mine.apply(request, Conversation.objects.all())) == []

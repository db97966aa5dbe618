"""End to end: an SLA breach found by the sweep starts an `sla.breached` workflow that escalates the conversation.

Everything goes through the public surfaces: the policy and the workflow are made over the API, time passes with
`conversations.clock.travel`, the sweep runs as the schedule would run it, and events are drained as workers would.
"""

import datetime as dt

import pytest
from django.core import mail

from conversations import clock, services
from conversations.models import Event, Message
from sla.sweep import run_sweep
from tests.support.runs import drain
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db

ESCALATION = {
    "name": "Escalate breached first replies",
    "status": "active",
    "trigger": {"type": "sla.breached", "config": {"metrics": ["first_response"]}},
    "steps": [
        {
            "type": "escalate",
            "config": {
                "team": "Tier 2",
                "priority": "urgent",
                "note": "{{ sla.metric }} target of {{ sla.target_minutes }} min missed ({{ sla.policy }})",
            },
        }
    ],
}
POLICY = {
    "name": "Standard",
    "position": 1,
    "match": {},
    "business_hours": None,
    "targets": {"first_response": 30, "resolution": 480},
    "pause_on": ["pending"],
    "warning_percent": 50,
}


@pytest.fixture
def setup(manager_client, contact):
    tier2 = services.team_create(name="Tier 2", email="tier2@example.com")
    assert manager_client.post("/api/sla-policies/", POLICY, format="json").status_code == 201
    response = manager_client.post("/api/workflows/", ESCALATION, format="json")
    assert response.status_code == 201, response.json()
    conversation = services.conversation_open(contact=contact, channel="email", subject="Invoice is wrong")
    services.message_create(conversation=conversation, body="Please fix my invoice", sender_type="customer")
    drain()  # the opening events start nothing
    return tier2, conversation, response.json()["id"]


def test_a_breach_escalates_the_conversation_once(setup, manager_client):
    tier2, conversation, workflow_id = setup
    with clock.travel(dt.timedelta(minutes=31)):
        assert run_sweep().breaches == 1
        drain()
        assert run_sweep().breaches == 0  # a second sweep finds nothing new to emit
        drain()
    conversation.refresh_from_db()
    assert (conversation.team, conversation.priority) == (tier2, "urgent")
    note = Message.objects.get(conversation=conversation, internal=True)
    assert "first_response target of 30 min missed (Standard)" in note.body
    assert [message.to for message in mail.outbox] == [["tier2@example.com"]]
    runs = WorkflowRun.objects.filter(workflow_id=workflow_id, conversation=conversation)
    assert [run.status for run in runs] == ["succeeded"]
    breach = Event.objects.get(type="sla.breached", conversation=conversation)
    assert runs.get().event_id == breach.pk


def test_the_warning_does_not_start_the_breach_workflow(setup):
    _, conversation, workflow_id = setup
    with clock.travel(dt.timedelta(minutes=16)):
        assert run_sweep().warnings == 1  # first response at 15 of its 30 minutes; resolution warns at 240
        drain()
    conversation.refresh_from_db()
    assert conversation.priority == "normal"
    assert not WorkflowRun.objects.filter(workflow_id=workflow_id).exists()


def test_a_reply_in_time_means_no_escalation(setup):
    _, conversation, workflow_id = setup
    with clock.travel(dt.timedelta(minutes=20)):
        services.message_create(conversation=conversation, body="We are on it", sender_type="agent")
    with clock.travel(dt.timedelta(minutes=40)):
        assert run_sweep().breaches == 0
        drain()
    assert not WorkflowRun.objects.filter(workflow_id=workflow_id).exists()


def test_the_conversation_api_shows_the_breached_target(setup, agent_client):
    _, conversation, _ = setup
    with clock.travel(dt.timedelta(minutes=31)):
        run_sweep()
        drain()
        body = agent_client.get(f"/api/conversations/{conversation.pk}/").json()
    by_metric = {target["metric"]: target for target in body["sla"]}
    assert by_metric["first_response"]["state"] == "breached"
    assert by_metric["first_response"]["breached_at"] is not None
    listed = agent_client.get("/api/conversations/", {"sla_breached": "true"}).json()["results"]
    assert [row["id"] for row in listed] == [conversation.pk]

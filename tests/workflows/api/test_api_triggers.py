"""Each trigger type of docs/reference/triggers.md end to end through the public API: a manager creates the workflow
with `POST /api/workflows/`, an agent causes the event through the conversations API, and the run shows up in
`/api/workflow-runs/`. Also: each on_false mode, the depth limit, redelivered events, the schedule trigger and
scheduled events (fired after their time, never when cleared). `sla.*`, intents and sentiment_crossed belong to
other issues and are tested there.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations import clock
from conversations.models import Conversation, Event
from tests.support.runs import drain
from workflows.engine.drain import dispatch_and_run
from workflows.engine.sweep import sweep_once
from workflows.models import WorkflowRun

URL = "/api/workflows/"
RUNS = "/api/workflow-runs/"


@pytest.fixture
def make(manager_client):
    def create(trigger_type, steps, config=None, name="Workflow") -> int:
        response = manager_client.post(
            URL,
            {
                "name": name,
                "status": "active",
                "steps": steps,
                "trigger": {"type": trigger_type, "config": config or {}},
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    return create


def runs_of(client, workflow: int, **filters) -> list[dict]:
    response = client.get(RUNS, {"workflow": workflow, **filters})
    assert response.status_code == 200
    return response.json()["results"]


def tags(conversation_id: int) -> list[str]:
    return sorted(Conversation.objects.get(pk=conversation_id).tags.values_list("name", flat=True))


def tag(name: str) -> dict:
    return {"type": "add_tag", "config": {"tags": [name]}}


def open_conversation(client, contact, channel="live_chat") -> int:
    response = client.post(
        "/api/conversations/", {"contact": contact.pk, "channel": channel, "subject": "Help"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_conversation_created(manager_client, agent_client, contact, make):
    workflow = make("conversation.created", [tag("by-email")], {"channels": ["email"], "segments": ["enterprise"]})
    by_email = open_conversation(agent_client, contact, "email")
    by_chat = open_conversation(agent_client, contact, "live_chat")
    drain()
    [run] = runs_of(manager_client, workflow)
    assert (run["conversation"], run["status"], run["event_type"]) == (by_email, "succeeded", "conversation.created")
    assert tags(by_email) == ["by-email"] and tags(by_chat) == []


def test_message_created(manager_client, agent_client, conversation, make):
    workflow = make(
        "message.created",
        [{"type": "auto_reply", "config": {"text": "Refunds take 3 days."}}],
        {"sender_types": ["customer"], "content_contains": ["refund"]},
    )
    messages = f"/api/conversations/{conversation.pk}/messages/"
    assert (
        agent_client.post(
            messages, {"body": "Where is my REFUND?", "sender_type": "customer"}, format="json"
        ).status_code
        == 201
    )
    agent_client.post(messages, {"body": "About your refund", "sender_type": "agent"}, format="json")
    agent_client.post(messages, {"body": "Hello", "sender_type": "customer"}, format="json")
    drain()
    [run] = runs_of(manager_client, workflow)
    assert run["status"] == "succeeded"
    assert conversation.messages.filter(body="Refunds take 3 days.").count() == 1


def test_status_changed(manager_client, agent_client, conversation, make):
    workflow = make("conversation.status_changed", [tag("waiting-on-customer")], {"to": ["pending"]})
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"status": "open"}, format="json")
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"status": "pending"}, format="json")
    drain()
    [run] = runs_of(manager_client, workflow)
    assert run["status"] == "succeeded"
    assert tags(conversation.pk) == ["waiting-on-customer"]


def test_assigned(manager_client, agent_client, conversation, team, make):
    workflow = make(
        "conversation.assigned", [{"type": "set_priority", "config": {"priority": "high"}}], {"teams": ["Support"]}
    )
    response = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"team": "Support"}, format="json")
    assert response.status_code == 200, response.json()
    drain()
    [run] = runs_of(manager_client, workflow)
    assert run["status"] == "succeeded"
    conversation.refresh_from_db()
    assert conversation.priority == "high"


def test_disposition_set(manager_client, agent_client, conversation, make):
    workflow = make(
        "conversation.disposition_set", [tag("approval")], {"dispositions": ["needs_approval"], "final": False}
    )
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"disposition": "needs_approval"}, format="json")
    drain()
    assert [run["status"] for run in runs_of(manager_client, workflow)] == ["succeeded"]
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"disposition": "spam"}, format="json")
    drain()
    assert len(runs_of(manager_client, workflow)) == 1
    assert tags(conversation.pk) == ["approval"]


def test_contact_updated(manager_client, agent_client, contact, make):
    workflow = make(
        "contact.updated",
        [{"type": "set_variable", "config": {"name": "plan", "value": "{{ contact.attributes.plan }}"}}],
        {"attributes": ["plan"]},
    )
    agent_client.patch(f"/api/contacts/{contact.pk}/", {"attributes": {"colour": "red"}}, format="json")
    response = agent_client.patch(f"/api/contacts/{contact.pk}/", {"attributes": {"plan": "pro"}}, format="json")
    assert response.status_code == 200, response.json()
    drain()
    [run] = runs_of(manager_client, workflow)
    assert run["status"] == "succeeded"
    assert run["steps"][0]["output"] == {"plan": "pro"}


def test_recording_uploaded(manager_client, agent_client, contact, make):
    workflow = make("recording.uploaded", [tag("recorded")], {"channels": ["phone"]})
    call = open_conversation(agent_client, contact, "phone")
    audio = SimpleUploadedFile("call.wav", b"RIFF0000WAVEfmt ", content_type="audio/wav")
    response = agent_client.post(f"/api/conversations/{call}/recordings/", {"file": audio}, format="multipart")
    assert response.status_code == 201, response.content
    drain()
    [run] = runs_of(manager_client, workflow)
    assert run["status"] == "succeeded" and tags(call) == ["recorded"]


def test_manual(manager_client, conversation, make):
    workflow = make("manual", [tag("by-hand")])
    response = manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json")
    assert response.status_code == 201
    drain()
    sweep_once()
    [run] = runs_of(manager_client, workflow)
    assert run["status"] == "succeeded" and tags(conversation.pk) == ["by-hand"]


def test_inactive_workflows_do_not_run(manager_client, agent_client, contact, make):
    workflow = make("conversation.created", [tag("x")])
    manager_client.post(f"{URL}{workflow}/deactivate/")
    open_conversation(agent_client, contact)
    drain()
    assert runs_of(manager_client, workflow) == []


# on_false --------------------------------------------------------------------------------------------------

FALSE_CONDITION = {
    "type": "condition",
    "config": {"all": [{"field": "conversation.channel", "op": "eq", "value": "sms"}]},
}


@pytest.mark.parametrize(
    "on_false,run_status,step_statuses,expected_tags",
    [
        ("stop", "stopped", ["succeeded"], []),
        ("continue", "succeeded", ["succeeded", "succeeded", "succeeded"], ["first", "second"]),
        ("skip_next", "succeeded", ["succeeded", "skipped", "succeeded"], ["second"]),
    ],
)
def test_on_false(manager_client, agent_client, contact, make, on_false, run_status, step_statuses, expected_tags):
    workflow = make("conversation.created", [{**FALSE_CONDITION, "on_false": on_false}, tag("first"), tag("second")])
    conversation = open_conversation(agent_client, contact)
    drain()
    [run] = runs_of(manager_client, workflow)
    assert run["status"] == run_status
    assert [step["status"] for step in run["steps"]] == step_statuses
    assert run["steps"][0]["output"]["result"] is False
    assert tags(conversation) == expected_tags


# Loops, redelivery -----------------------------------------------------------------------------------------


def test_a_workflow_that_retriggers_itself_stops_at_the_depth_limit(
    manager_client, agent_client, conversation, make, settings, caplog
):
    assert settings.HELPDESK_MAX_DEPTH == 3
    workflow = make("message.created", [{"type": "auto_reply", "config": {"text": "Echo"}}])
    agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": "Hi", "sender_type": "customer"}, format="json"
    )
    with caplog.at_level("WARNING", logger="workflows.engine.dispatcher"):
        drain()
    runs = runs_of(manager_client, workflow)
    assert len(runs) == 4  # events of depth 0, 1, 2 and 3
    assert conversation.messages.filter(body="Echo").count() == 4
    deepest = Event.objects.get(type="message.created", depth=4)
    assert "HELPDESK_MAX_DEPTH" in deepest.dispatch_note
    assert not WorkflowRun.objects.filter(event=deepest).exists()
    [logged] = [record.getMessage() for record in caplog.records if "HELPDESK_MAX_DEPTH" in record.getMessage()]
    assert str(deepest.pk) in logged and "no workflow started" in logged


def test_the_depth_limit_follows_the_setting(manager_client, agent_client, conversation, make, settings):
    settings.HELPDESK_MAX_DEPTH = 1
    workflow = make("message.created", [{"type": "auto_reply", "config": {"text": "Echo"}}])
    agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": "Hi", "sender_type": "customer"}, format="json"
    )
    drain()
    assert len(runs_of(manager_client, workflow)) == 2  # events of depth 0 and 1
    assert "HELPDESK_MAX_DEPTH=1" in Event.objects.get(type="message.created", depth=2).dispatch_note


def test_a_redelivered_event_starts_one_run(manager_client, agent_client, conversation, make):
    workflow = make("message.created", [tag("once")])
    agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": "Hi", "sender_type": "customer"}, format="json"
    )
    event = Event.objects.get(type="message.created")
    dispatch_and_run(event.pk)
    Event.objects.filter(pk=event.pk).update(dispatched_at=None)  # as if the worker died before marking it
    dispatch_and_run(event.pk)
    assert len(runs_of(manager_client, workflow)) == 1


# Time-based triggers ---------------------------------------------------------------------------------------


def test_schedule_fires_once_per_conversation_while_it_keeps_matching(manager_client, agent_client, conversation, make):
    workflow = make(
        "schedule",
        [tag("stale")],
        {"interval_minutes": 10, "match": {"all": [{"field": "conversation.status", "op": "eq", "value": "pending"}]}},
    )
    patch = f"/api/conversations/{conversation.pk}/"
    agent_client.patch(patch, {"status": "pending"}, format="json")
    drain()

    def tick(minutes: int) -> None:
        with clock.travel(dt.timedelta(minutes=minutes)):
            sweep_once()
            drain()

    tick(0)
    assert len(runs_of(manager_client, workflow)) == 1
    tick(11)
    tick(22)
    assert len(runs_of(manager_client, workflow)) == 1  # still matching: no second run
    with clock.travel(dt.timedelta(minutes=25)):
        agent_client.patch(patch, {"status": "open"}, format="json")
    tick(33)  # no longer matches: forgotten
    with clock.travel(dt.timedelta(minutes=35)):
        agent_client.patch(patch, {"status": "pending"}, format="json")
    tick(44)  # matches again: fires again
    runs = runs_of(manager_client, workflow)
    assert [run["status"] for run in runs] == ["succeeded", "succeeded"]


def test_scheduled_event_fires_after_its_time(manager_client, agent_client, contact, make):
    make(
        "conversation.created",
        [{"type": "schedule_event", "config": {"name": "follow_up", "minutes": 30}}],
        name="Schedule a follow-up",
    )
    follow_up = make("scheduled_event.fired", [tag("followed-up")], {"names": ["follow_up"]}, name="Follow up")
    conversation = open_conversation(agent_client, contact)
    drain()
    sweep_once()
    drain()
    assert runs_of(manager_client, follow_up) == []
    with clock.travel(dt.timedelta(minutes=31)):
        sweep_once()
        drain()
    [run] = runs_of(manager_client, follow_up)
    assert (run["status"], run["conversation"], run["event_type"]) == (
        "succeeded",
        conversation,
        "scheduled_event.fired",
    )
    assert tags(conversation) == ["followed-up"]


def test_a_cleared_scheduled_event_never_fires(manager_client, agent_client, contact, make):
    make(
        "conversation.created",
        [{"type": "schedule_event", "config": {"name": "follow_up", "minutes": 30}}],
        name="Schedule a follow-up",
    )
    make(
        "message.created",
        [{"type": "clear_scheduled_event", "config": {"name": "follow_up"}}],
        {"sender_types": ["customer"]},
        name="Customer answered",
    )
    follow_up = make("scheduled_event.fired", [tag("followed-up")], {"names": ["follow_up"]}, name="Follow up")
    conversation = open_conversation(agent_client, contact)
    drain()
    agent_client.post(
        f"/api/conversations/{conversation}/messages/",
        {"body": "Sorted, thanks", "sender_type": "customer"},
        format="json",
    )
    drain()
    with clock.travel(dt.timedelta(days=2)):
        sweep_once()
        drain()
    assert runs_of(manager_client, follow_up) == []
    assert tags(conversation) == []


def test_dispatch_does_not_read_workflows_of_other_trigger_types(agent_client, conversation, make):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make("message.created", [tag("seen")], {"sender_types": ["customer"]})

    def dispatch() -> tuple[int, int, list[str]]:
        agent_client.post(
            f"/api/conversations/{conversation.pk}/messages/", {"body": "Hi", "sender_type": "customer"}, format="json"
        )
        event = Event.objects.filter(type="message.created", dispatched_at__isnull=True).get()
        with CaptureQueriesContext(connection) as queries:
            started = dispatch_and_run(event.pk)
        workflow_reads = [q["sql"] for q in queries if 'FROM "workflows_workflow"' in q["sql"]]
        return len(queries), started, workflow_reads

    dispatch()  # the conversation's first message costs more (the tag is created then)
    few, _, _ = dispatch()
    for index in range(30):
        make(
            ["conversation.created", "conversation.status_changed", "sla.breached"][index % 3],
            [tag("other")],
            name=f"Other {index}",
        )
    many, started, workflow_reads = dispatch()
    assert (many, started) == (few, 1)  # same queries, one run
    assert workflow_reads and all(
        any(
            f in sql.split("WHERE", 1)[-1]
            for f in ('"trigger_type" = ', '"trigger_type" IN (', '"workflows_workflow"."id" = ')
        )
        for sql in workflow_reads
    ), workflow_reads

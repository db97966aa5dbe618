"""`wait_for` (docs/managers.md) end to end through the real engine: a workflow made over the API waits for the
customer's answer; the drain resumes it with the event ("happened"), the sweep with the clock moved past the timeout
("timed_out"); each wait resumes once, whatever races it, and only for events of its own conversation.
"""

import datetime as dt

import pytest

from conversations import clock, services
from conversations.models import Event
from tests.support import replay as replays
from tests.support.runs import drain, replies
from workflows.engine import waits
from workflows.engine.context import BatchReader
from workflows.engine.sweep import resume_due_runs, sweep_once
from workflows.models import RunWait, WorkflowRun

URL = "/api/workflows/"
ASK = {"type": "auto_reply", "config": {"text": "Could you send us your order number?"}}
WAIT = {
    "type": "wait_for",
    "config": {
        "event": "message.created",
        "filter": {"sender_types": ["customer"]},
        "timeout": {"days": 1},
        "save_as": "answer",
    },
}
THANKS = {"type": "auto_reply", "config": {"text": "Outcome: {{ vars.answer.outcome }}"}}


@pytest.fixture
def ask_and_wait(manager_client):
    """A workflow on a customer's first message (tagged `new-question` by nobody: any customer message starts it
    only while the conversation has no run yet) that asks, waits and answers with the outcome."""

    def create(*steps) -> int:
        body = {
            "name": "Ask and wait",
            "status": "active",
            "steps": list(steps or (ASK, WAIT, THANKS)),
            "trigger": {"type": "conversation.created", "config": {}},
        }
        response = manager_client.post(URL, body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    return create


def open_conversation(name="Ada"):
    contact = services.contact_create(name=name, email=f"{name.lower()}@example.com")
    conversation = services.conversation_open(contact=contact, channel="email", subject="Where is my parcel")
    drain()
    return conversation


def say(conversation, body, *, later=dt.timedelta(seconds=1)):
    with clock.travel(later):
        services.message_create(conversation=conversation, body=body, sender_type="customer")
    drain()


def run_of(client, conversation) -> dict:
    runs = client.get("/api/workflow-runs/", {"conversation": conversation.pk}).json()["results"]
    assert len(runs) == 1, runs
    return client.get(f"/api/workflow-runs/{runs[0]['id']}/").json()


def test_wait_for_resumes_with_the_event_that_happened(ask_and_wait, manager_client):
    ask_and_wait()
    conversation = open_conversation()
    waiting = run_of(manager_client, conversation)
    assert waiting["status"] == "waiting"
    assert [(step["path"], step["type"], step["status"]) for step in waiting["steps"]] == [
        ("0", "auto_reply", "succeeded"),
        ("1", "wait_for", "waiting"),
    ]
    say(conversation, "It is A-1234")
    run = run_of(manager_client, conversation)
    assert run["status"] == "succeeded"
    outcome = run["steps"][1]["output"]
    assert outcome["outcome"] == "happened"
    assert outcome["event"]["type"] == "message.created"
    assert outcome["event"]["payload"]["sender_type"] == "customer"
    assert set(outcome["event"]) == {"id", "type", "occurred_at", "payload"}
    assert replies(conversation) == ["Could you send us your order number?", "Outcome: happened"]
    assert not RunWait.objects.exists()


def test_wait_for_ignores_events_its_filter_refuses(ask_and_wait, manager_client):
    ask_and_wait()
    conversation = open_conversation()
    with clock.travel(dt.timedelta(seconds=1)):
        services.message_create(conversation=conversation, body="An agent note", sender_type="agent")
    drain()
    assert run_of(manager_client, conversation)["status"] == "waiting"


def test_wait_for_times_out_through_the_sweep(ask_and_wait, manager_client):
    ask_and_wait()
    conversation = open_conversation()
    with clock.travel(dt.timedelta(hours=23)):
        sweep_once()
    assert run_of(manager_client, conversation)["status"] == "waiting"
    with clock.travel(dt.timedelta(days=1, minutes=1)):
        sweep_once()
    run = run_of(manager_client, conversation)
    assert run["status"] == "succeeded"
    assert run["steps"][1]["output"] == {"outcome": "timed_out", "event": None}
    assert replies(conversation)[-1] == "Outcome: timed_out"
    # A late answer changes nothing: the wait is over.
    say(conversation, "Sorry, here it is: A-1", later=dt.timedelta(days=2))
    assert replies(conversation)[-1] == "Outcome: timed_out" and len(replies(conversation)) == 2


def test_a_wait_is_resumed_only_by_its_own_conversation(ask_and_wait, manager_client):
    ask_and_wait()
    first, second = open_conversation("Ada"), open_conversation("Bob")
    say(second, "B-42")
    assert run_of(manager_client, first)["status"] == "waiting"
    assert run_of(manager_client, second)["status"] == "succeeded"
    assert list(RunWait.objects.values_list("conversation", flat=True)) == [first.pk]


def matched_for(conversation, body):
    """The waits a customer message would settle, matched as the dispatcher does before its transaction."""
    with clock.travel(dt.timedelta(seconds=1)):
        services.message_create(conversation=conversation, body=body, sender_type="customer")
    event = Event.objects.filter(conversation=conversation, type="message.created").latest("occurred_at")
    reader = BatchReader([event])
    return waits.match_waits([event], reader.context)


def test_an_event_handled_twice_resumes_the_wait_once(ask_and_wait):
    ask_and_wait()
    conversation = open_conversation()
    matched = matched_for(conversation, "A-1")
    assert len(matched) == 1
    assert waits.settle_waits(matched, clock.now()) == [matched[0][0].run_id]
    assert waits.settle_waits(matched, clock.now()) == []  # a second worker with the same match: nothing
    resume_due_runs(clock.now())
    drain()
    run = WorkflowRun.objects.get()
    assert run.status == "succeeded" and run.variables["answer"]["outcome"] == "happened"
    assert replies(conversation) == ["Could you send us your order number?", "Outcome: happened"]


def test_the_timeout_wins_when_it_claims_first(ask_and_wait):
    ask_and_wait()
    conversation = open_conversation()
    matched = matched_for(conversation, "A-1")
    with clock.travel(dt.timedelta(days=2)):
        resume_due_runs(clock.now())  # the deadline passed before the event's dispatch committed: timed out
        assert waits.settle_waits(matched, clock.now()) == []
        drain()
    run = WorkflowRun.objects.get()
    assert run.status == "succeeded" and run.variables["answer"] == {"outcome": "timed_out", "event": None}
    assert replies(conversation) == ["Could you send us your order number?", "Outcome: timed_out"]


def test_the_event_wins_when_it_claims_first_even_past_the_deadline(ask_and_wait):
    ask_and_wait()
    conversation = open_conversation()
    matched = matched_for(conversation, "A-1")
    with clock.travel(dt.timedelta(days=2)):
        assert len(waits.settle_waits(matched, clock.now())) == 1
        resume_due_runs(clock.now())
        drain()
    run = WorkflowRun.objects.get()
    assert run.variables["answer"]["outcome"] == "happened"
    assert replies(conversation) == ["Could you send us your order number?", "Outcome: happened"]
    assert [step.status for step in run.steps.all()] == ["succeeded"] * 3


def test_wait_for_is_validated_on_save_by_the_trigger_types(manager_client):
    def post(config):
        body = {
            "name": "Bad wait",
            "trigger": {"type": "conversation.created", "config": {}},
            "steps": [{"type": "wait_for", "config": config}],
        }
        return manager_client.post(URL, body, format="json")

    unknown = post({"event": "message.exploded", "timeout": {"hours": 1}})
    assert unknown.status_code == 400 and "steps[0].config.event" in unknown.json()
    bad_filter = post({"event": "message.created", "filter": {"sender_types": "customer"}, "timeout": {"hours": 1}})
    assert bad_filter.status_code == 400 and "steps[0].config.filter.sender_types" in bad_filter.json()
    unknown_key = post({"event": "message.created", "filter": {"colour": ["red"]}, "timeout": {"hours": 1}})
    assert unknown_key.status_code == 400, unknown_key.json()
    bad_regex = post({"event": "message.created", "filter": {"content_regex": "(("}, "timeout": {"hours": 1}})
    assert bad_regex.status_code == 400 and "steps[0].config.filter.content_regex" in bad_regex.json()
    no_timeout = post({"event": "message.created", "timeout": {}})
    assert no_timeout.status_code == 400 and "steps[0].config.timeout.minutes" in no_timeout.json()
    assert (
        post(
            {
                "event": "conversation.status_changed",
                "filter": {"to": ["resolved"]},
                "timeout": {"minutes": 30},
                "save_as": "resolved",
            }
        ).status_code
        == 201
    )


def test_dry_run_says_what_it_would_wait_for(ask_and_wait, manager_client, conversation):
    workflow = ask_and_wait()
    report = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()
    step = report["steps"][1]
    assert step["output"]["would"] == ("would wait for message.created matching sender_types ['customer'], up to 1 day")
    assert not RunWait.objects.exists()


def test_a_cancelled_wait_is_never_resumed(ask_and_wait, manager_client):
    ask_and_wait()
    conversation = open_conversation()
    run = run_of(manager_client, conversation)
    assert manager_client.post(f"/api/workflow-runs/{run['id']}/cancel/").status_code == 200
    assert not RunWait.objects.exists()
    say(conversation, "A-1")
    with clock.travel(dt.timedelta(days=2)):
        sweep_once()
    assert run_of(manager_client, conversation)["status"] == "cancelled"
    assert replies(conversation) == ["Could you send us your order number?"]


def test_the_admin_run_page_shows_a_waiting_wait_for(ask_and_wait, manager, client):
    ask_and_wait()
    conversation = open_conversation()
    client.force_login(manager)
    response = client.get(f"/admin/workflows/workflowrun/{conversation.workflow_runs.get().pk}/change/")
    assert response.status_code == 200 and "message.created" in response.content.decode()


def test_replay_names_the_wait_and_the_path_it_would_take(
    manager_client, conversation, django_capture_on_commit_callbacks
):
    branch = {
        "type": "branch",
        "config": {
            "branches": [
                {
                    "name": "VIP",
                    "condition": {"all": [{"field": "contact.attributes.vip", "op": "eq", "value": True}]},
                    "steps": [WAIT],
                }
            ],
            "else": [ASK],
        },
    }
    workflow = replays.create_workflow(manager_client, [branch])
    replays.say(conversation, "I want a refund please")
    result = replays.replay(manager_client, django_capture_on_commit_callbacks, workflow)
    (sample,) = [sample for sample in result["samples"] if sample["outcome"] == "would_succeed"]
    assert [(step["path"], step["type"], step["status"]) for step in sample["steps"]] == [
        ("0", "branch", "would_run"),
        ("0.1.0", "wait_for", "would_run"),
        ("0.2.0", "auto_reply", "not_reached"),
    ]
    assert sample["steps"][0]["output"] == {"path": "VIP"}
    assert sample["steps"][1]["output"]["would"].startswith("would wait for message.created matching")
    assert not RunWait.objects.exists()

"""The dry run (`POST /api/workflows/{id}/test/`, docs/operations.md, docs/api.md): what each step would do, and nothing
changed."""

import pytest
from django.apps import apps
from django.core import mail

from conversations import services as conversation_services
from conversations.models import Event, Team
from workflows.engine.dryrun import dry_run
from workflows.models import WorkflowRun

URL = "/api/workflows/"


def create(client, steps, trigger=None, status="draft") -> int:
    response = client.post(
        URL,
        {
            "name": "Dry",
            "status": status,
            "steps": steps,
            "trigger": trigger or {"type": "message.created", "config": {"sender_types": ["customer"]}},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


VIP = {"type": "condition", "config": {"all": [{"field": "contact.attributes.vip", "op": "eq", "value": True}]}}
NOT_VIP = {"type": "condition", "config": {"all": [{"field": "contact.attributes.vip", "op": "eq", "value": False}]}}
SIDE_EFFECTS = [
    {"type": "add_tag", "config": {"tags": ["vip-{{ contact.attributes.plan }}"]}},
    {"type": "auto_reply", "config": {"text": "Hello {{ contact.name }}"}},
    {"type": "change_status", "config": {"status": "pending"}},
    {"type": "set_priority", "config": {"priority": "urgent"}},
    {"type": "create_ticket", "config": {"title": "Call back {{ contact.name }}"}},
    {"type": "send_email", "config": {"subject": "Hi", "body": "Hi {{ contact.name }}"}},
    {"type": "schedule_event", "config": {"name": "follow_up", "hours": 1}},
]


def test_dry_run_on_a_conversation_changes_nothing(manager_client, conversation):
    workflow = create(manager_client, [VIP, *SIDE_EFFECTS, {"type": "wait", "config": {"minutes": 5}}])
    before = row_counts()
    response = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json")
    assert response.status_code == 200, response.json()
    report = response.json()
    assert [step["status"] for step in report["steps"]] == ["would_run"] * 9
    assert row_counts() == before
    assert mail.outbox == []
    conversation.refresh_from_db()
    assert (conversation.status, conversation.priority) == ("new", "normal")
    assert list(conversation.tags.all()) == []


def test_dry_run_shows_rendered_inputs_and_condition_checks(manager_client, conversation):
    workflow = create(manager_client, [VIP, *SIDE_EFFECTS[:2]])
    report = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()
    condition, tag, reply = report["steps"]
    assert condition["output"]["result"] is True
    assert condition["output"]["checks"] == [
        {"field": "contact.attributes.vip", "op": "eq", "value": True, "actual": True, "result": True}
    ]
    assert tag["input"] == {"tags": ["vip-enterprise"]}
    assert reply["input"]["text"] == "Hello Ada Lovelace"
    assert {step["attempts"] for step in report["steps"]} == {0}
    assert report["result"]["status"] == "succeeded"


def test_dry_run_reports_the_shape_of_run_steps(manager_client, conversation):
    workflow = create(manager_client, [VIP])
    step = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()[
        "steps"
    ][0]
    assert set(step) == {"position", "path", "type", "status", "attempts", "duration_ms", "input", "output", "error"}


def test_on_false_stop_stops(manager_client, conversation):
    workflow = create(manager_client, [{**NOT_VIP, "on_false": "stop"}, *SIDE_EFFECTS[:2]])
    report = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()
    assert [s["status"] for s in report["steps"]] == ["stopped", "not_reached", "not_reached"]
    assert report["result"]["status"] == "stopped"


def test_on_false_skip_next_skips_one_step(manager_client, conversation):
    workflow = create(manager_client, [{**NOT_VIP, "on_false": "skip_next"}, *SIDE_EFFECTS[:2]])
    report = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()
    assert [s["status"] for s in report["steps"]] == ["would_run", "skipped", "would_run"]
    assert report["result"]["status"] == "succeeded"


def test_on_false_continue_goes_on(manager_client, conversation):
    workflow = create(manager_client, [{**NOT_VIP, "on_false": "continue"}, *SIDE_EFFECTS[:2]])
    report = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()
    assert [s["status"] for s in report["steps"]] == ["would_run"] * 3
    assert report["steps"][0]["output"]["result"] is False


def test_variables_flow_into_later_steps(manager_client, conversation):
    workflow = create(
        manager_client,
        [
            {"type": "set_variable", "config": {"name": "greeting", "value": "Dear {{ contact.name }}"}},
            {
                "type": "condition",
                "config": {"all": [{"field": "vars.greeting", "op": "starts_with", "value": "Dear"}]},
                "on_false": "stop",
            },
            {"type": "auto_reply", "config": {"text": "{{ vars.greeting }}, we are on it"}},
        ],
    )
    report = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()
    assert report["steps"][0]["output"] == {"greeting": "Dear Ada Lovelace"}
    assert report["steps"][2]["input"]["text"] == "Dear Ada Lovelace, we are on it"
    assert report["result"]["vars"] == {"greeting": "Dear Ada Lovelace"}


def test_sample_event_matches_the_trigger_and_feeds_the_message(manager_client, conversation):
    workflow = create(
        manager_client,
        [
            {
                "type": "condition",
                "config": {"all": [{"field": "message.body", "op": "contains", "value": "refund"}]},
                "on_false": "stop",
            },
            {"type": "add_tag", "config": {"tags": ["refund"]}},
        ],
        trigger={"type": "message.created", "config": {"sender_types": ["customer"], "content_contains": ["refund"]}},
    )
    events = Event.objects.count()
    response = manager_client.post(
        f"{URL}{workflow}/test/",
        {
            "event": {
                "payload": {"body": "I want a REFUND", "sender_type": "customer"},
                "conversation": conversation.pk,
            }
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["trigger"] == {"type": "message.created", "event_type": "message.created", "matches": True}
    assert [s["status"] for s in report["steps"]] == ["would_run", "would_run"]
    assert Event.objects.count() == events
    assert list(conversation.tags.all()) == []


def test_sample_event_that_does_not_match_the_trigger_says_so(manager_client, conversation):
    workflow = create(manager_client, [SIDE_EFFECTS[0]])
    report = manager_client.post(
        f"{URL}{workflow}/test/",
        {
            "conversation": conversation.pk,
            "event": {"payload": {"body": "hi", "sender_type": "agent"}},
        },
        format="json",
    ).json()
    assert report["trigger"]["matches"] is False


def test_sample_event_of_another_type_does_not_match(manager_client, conversation):
    workflow = create(manager_client, [SIDE_EFFECTS[0]])
    report = manager_client.post(
        f"{URL}{workflow}/test/",
        {
            "conversation": conversation.pk,
            "event": {"type": "conversation.created", "payload": {}},
        },
        format="json",
    ).json()
    assert report["trigger"] == {"type": "message.created", "event_type": "conversation.created", "matches": False}


def test_a_step_that_would_fail_is_reported_failed(manager_client, conversation):
    conversation_services.team_create(name="Nobody here")
    workflow = create(
        manager_client, [{"type": "route", "config": {"team": "Nobody here", "strategy": "specific"}}, SIDE_EFFECTS[0]]
    )
    Team.objects.filter(name="Nobody here").delete()  # deleted after the workflow was saved
    report = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()
    assert [s["status"] for s in report["steps"]] == ["failed", "not_reached"]
    assert "Nobody here" in report["steps"][0]["error"]
    assert report["result"]["status"] == "failed"


def test_dry_run_of_a_draft_starts_no_run(manager_client, conversation):
    workflow = create(manager_client, [SIDE_EFFECTS[0]])
    manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json")
    assert not WorkflowRun.objects.exists()


@pytest.mark.parametrize(
    "payload,key",
    [
        ({}, "non_field_errors"),
        ({"conversation": 999999}, "conversation"),
        ({"conversation": "abc"}, "conversation"),
        ({"conversation": True}, "conversation"),
        ({"conversation": 10**30}, "conversation"),
        ({"event": "message"}, "event"),
        ({"event": {"payload": []}}, "event"),
        ({"event": {"colour": "red"}}, "event"),
        ({"colour": "red"}, "colour"),
        ({"event": {"payload": {"message_id": "abc"}}}, "event"),
        ({"event": {"payload": {"message_id": 10**30}}}, "event"),
    ],
)
def test_bad_test_bodies_are_400(manager_client, conversation, payload, key):
    workflow = create(manager_client, [SIDE_EFFECTS[0]])
    response = manager_client.post(f"{URL}{workflow}/test/", payload, format="json")
    assert response.status_code == 400, response.content
    assert key in response.json()


def test_dry_run_service_on_an_unsaved_definition(conversation):
    report = dry_run(
        definition={
            "name": "x",
            "trigger": {"type": "manual", "config": {}},
            "steps": [{"type": "set_priority", "config": {"priority": "high"}}],
        },
        conversation=conversation,
    )
    assert report["steps"][0]["status"] == "would_run"
    conversation.refresh_from_db()
    assert conversation.priority == "normal"


def test_a_sample_payload_of_the_wrong_shape_matches_nothing(manager_client, conversation):
    workflow = create(
        manager_client, [SIDE_EFFECTS[0]], trigger={"type": "sla.breached", "config": {"threshold_minutes": 5}}
    )
    response = manager_client.post(
        f"{URL}{workflow}/test/",
        {"conversation": conversation.pk, "event": {"payload": {"metric": "first_response", "minutes_late": "very"}}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["trigger"]["matches"] is False


def test_a_sample_can_name_a_real_message(manager_client, conversation):
    message = conversation_services.message_create(
        conversation=conversation, body="refund please", sender_type="customer"
    )
    workflow = create(
        manager_client, [SIDE_EFFECTS[0]], trigger={"type": "message.created", "config": {"content_regex": "^refund"}}
    )
    report = manager_client.post(
        f"{URL}{workflow}/test/",
        {"event": {"conversation": conversation.pk, "payload": {"message_id": message.pk, "sender_type": "customer"}}},
        format="json",
    ).json()
    assert report["trigger"]["matches"] is True

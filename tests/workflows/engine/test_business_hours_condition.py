"""The `within_business_hours` / `outside_business_hours` condition ops: asked about the timestamp they name (the
event's own time), on a calendar named by id or name, validated on save, and used by the after-hours template."""

import datetime as dt

import pytest
from django.urls import reverse

from conversations import clock
from conversations import services as conversation_services
from sla.models import BusinessHours
from workflows.gallery import catalog as gallery
from workflows.models import WorkflowRun

URL = "/api/workflows/"
WEDNESDAY_EVENING = "2026-12-02T19:30:00+01:00"
WEDNESDAY_MORNING = "2026-12-02T10:00:00+01:00"
CHRISTMAS_MORNING = "2026-12-25T10:00:00+01:00"


@pytest.fixture
def berlin(db) -> BusinessHours:
    return BusinessHours.objects.create(
        name="Berlin office",
        timezone="Europe/Berlin",
        holidays_country="DE",
        intervals=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
    )


def definition(op="outside_business_hours", value="Berlin office", trigger=None) -> dict:
    return {
        "name": "After hours",
        "status": "draft",
        "trigger": trigger or {"type": "message.created", "config": {"sender_types": ["customer"]}},
        "steps": [
            {
                "type": "condition",
                "config": {"all": [{"field": "event.occurred_at", "op": op, "value": value}]},
                "on_false": "stop",
            },
            {"type": "add_tag", "config": {"tags": ["after-hours"]}},
        ],
    }


def dry_run_at(client, workflow_id: int, occurred_at: str) -> dict:
    response = client.post(
        f"{URL}{workflow_id}/test/",
        {
            "event": {
                "payload": {"body": "Where is my parcel?", "sender_type": "customer"},
                "occurred_at": occurred_at,
            }
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.mark.parametrize(
    ("occurred_at", "result"),
    [
        (WEDNESDAY_EVENING, "succeeded"),
        (WEDNESDAY_MORNING, "stopped"),
        (CHRISTMAS_MORNING, "succeeded"),
    ],
)
def test_dry_run_asks_about_the_sample_events_own_time(manager_client, berlin, occurred_at, result):
    workflow = manager_client.post(URL, definition(), format="json").json()["id"]
    report = dry_run_at(manager_client, workflow, occurred_at)
    assert report["result"]["status"] == result
    check = report["steps"][0]["output"]["checks"][0]
    assert check["op"] == "outside_business_hours" and check["result"] is (result == "succeeded")


def test_within_business_hours_names_the_calendar_by_id(manager_client, berlin):
    workflow = manager_client.post(URL, definition("within_business_hours", berlin.pk), format="json").json()["id"]
    assert dry_run_at(manager_client, workflow, WEDNESDAY_MORNING)["result"]["status"] == "succeeded"
    assert dry_run_at(manager_client, workflow, WEDNESDAY_EVENING)["result"]["status"] == "stopped"


def test_an_unknown_calendar_is_a_400_on_the_condition_value(manager_client, berlin):
    response = manager_client.post(URL, definition(value="Berlin ofice"), format="json")
    assert response.status_code == 400
    assert 'No business-hours calendar "Berlin ofice".' in str(response.json())
    assert "steps[0].config.all[0].value" in str(response.json())


def test_business_hours_ops_are_refused_in_a_schedule_query(manager_client, berlin):
    trigger = {
        "type": "schedule",
        "config": {
            "interval_minutes": 60,
            "match": {
                "all": [{"field": "conversation.status", "op": "within_business_hours", "value": "Berlin office"}]
            },
        },
    }
    body = {**definition(), "trigger": trigger}
    response = manager_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert "cannot be used in a database query condition" in str(response.json())


def test_a_bad_sample_time_is_a_400(manager_client, berlin):
    workflow = manager_client.post(URL, definition(), format="json").json()["id"]
    response = manager_client.post(f"{URL}{workflow}/test/", {"event": {"occurred_at": "yesterday"}}, format="json")
    assert response.status_code == 400 and "occurred_at" in str(response.json())


def test_a_real_message_after_hours_is_tagged_and_one_in_hours_is_not(manager, berlin, contact):
    from tests.support.runs import drain
    from workflows import services

    body = {**definition(), "status": "active"}
    services.workflow_create(definition=body)
    conversation = conversation_services.conversation_open(contact=contact, channel="web", subject="Parcel")
    for moment, body_text in ((WEDNESDAY_MORNING, "in hours"), (WEDNESDAY_EVENING, "after hours")):
        with clock.travel(dt.datetime.fromisoformat(moment) - clock.now()):
            conversation_services.message_create(conversation=conversation, body=body_text, sender_type="customer")
            drain()
    runs = WorkflowRun.objects.order_by("event__occurred_at")
    assert [run.status for run in runs] == ["stopped", "succeeded"]
    assert list(conversation.tags.values_list("name", flat=True)) == ["after-hours"]


@pytest.mark.parametrize(
    ("occurred_at", "result"),
    [
        ("2026-12-05T11:00:00+00:00", "succeeded"),  # Saturday
        ("2026-12-02T11:00:00+00:00", "stopped"),  # Wednesday, in the default Mon-Fri 09-17 hours
    ],
)
def test_after_hours_template_uses_the_default_calendar(manager_client, manager, occurred_at, result):
    workflow = gallery.template_use(slug="after-hours-auto-reply", created_by=manager)
    leaf = gallery.get_template("after-hours-auto-reply").definition["steps"][0]["config"]["all"][0]
    assert leaf["op"] == "outside_business_hours"
    assert dry_run_at(manager_client, workflow.pk, occurred_at)["result"]["status"] == result


def test_admin_dry_run_on_a_conversation_uses_its_latest_events_time(browser, manager, berlin, contact):
    workflow = gallery.template_use(slug="after-hours-auto-reply", created_by=manager)
    conversation = conversation_services.conversation_open(contact=contact, channel="web", subject="Parcel")
    with clock.travel(dt.datetime.fromisoformat("2026-12-05T11:00:00+00:00") - clock.now()):
        conversation_services.message_create(conversation=conversation, body="Hello?", sender_type="customer")
    with clock.travel(dt.datetime.fromisoformat(WEDNESDAY_MORNING) - clock.now()):  # "now" is in hours
        response = browser.post(
            reverse("admin:workflows_workflow_test"), {"workflow": workflow.pk, "conversation": conversation.pk}
        )
    assert response.context["report"]["result"]["status"] == "succeeded"

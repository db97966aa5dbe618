"""The SLA API of docs/api.md: business-hours/ and sla-policies/ for managers, bad input is a 400 naming the field."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.models import Conversation
from sla.api.serializers import SlaTargetSerializer
from sla.selectors import breached_conversation_ids_q, targets_for
from sla.sweep import run_sweep
from tests.support.sla import MONDAY_9AM, open_conversation

pytestmark = pytest.mark.django_db

CALENDAR_BODY = {
    "name": "Munich office",
    "timezone": "Europe/Berlin",
    "intervals": [{"weekday": 0, "start": "09:00", "end": "17:00"}, {"weekday": 4, "start": "22:00", "end": "06:00"}],
    "holidays_country": "DE",
    "holidays_subdivision": "BY",
    "extra_holidays": ["2026-12-24"],
}
POLICY_BODY = {
    "name": "VIP",
    "position": 1,
    "match": {"all": [{"field": "contact.segment", "op": "eq", "value": "enterprise"}]},
    "business_hours": None,
    "targets": {"first_response": 15, "next_response": 30, "resolution": 240},
    "pause_on": ["pending", "on_hold"],
    "warning_percent": 80,
}


def test_manager_creates_and_reads_a_calendar(manager_client):
    response = manager_client.post("/api/business-hours/", CALENDAR_BODY, format="json")
    assert response.status_code == 201, response.json()
    read = manager_client.get(f"/api/business-hours/{response.json()['id']}/").json()
    assert {key: read[key] for key in CALENDAR_BODY} == CALENDAR_BODY


def test_manager_creates_a_policy_on_a_calendar_and_reads_it_back(manager_client):
    calendar_id = manager_client.post("/api/business-hours/", CALENDAR_BODY, format="json").json()["id"]
    response = manager_client.post("/api/sla-policies/", {**POLICY_BODY, "business_hours": calendar_id}, format="json")
    assert response.status_code == 201, response.json()
    read = manager_client.get("/api/sla-policies/").json()["results"][0]
    assert {key: read[key] for key in POLICY_BODY} == {**POLICY_BODY, "business_hours": calendar_id}


def test_patching_a_policy_changes_only_what_is_sent(manager_client):
    policy_id = manager_client.post("/api/sla-policies/", POLICY_BODY, format="json").json()["id"]
    response = manager_client.patch(
        f"/api/sla-policies/{policy_id}/", {"targets": {"first_response": 5}}, format="json"
    )
    assert response.json()["targets"] == {"first_response": 5, "next_response": None, "resolution": None}
    assert response.json()["match"] == POLICY_BODY["match"]


def test_agents_may_not_manage_sla_and_anonymous_callers_are_asked_to_log_in(agent_client, anon_client):
    assert agent_client.post("/api/sla-policies/", POLICY_BODY, format="json").status_code == 403
    assert agent_client.get("/api/business-hours/").status_code == 403
    assert anon_client.get("/api/sla-policies/").status_code == 401


@pytest.mark.parametrize(
    "change, field",
    [
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"timezone": 5}, "timezone"),
        ({"intervals": []}, "intervals"),
        ({"intervals": [{"weekday": 9, "start": "09:00", "end": "17:00"}]}, "intervals"),
        ({"intervals": [{"weekday": 0, "start": "25:00", "end": "17:00"}]}, "intervals"),
        (
            {
                "intervals": [
                    {"weekday": 0, "start": "09:00", "end": "12:00"},
                    {"weekday": 0, "start": "11:00", "end": "13:00"},
                ]
            },
            "intervals",
        ),
        ({"intervals": "weekdays 9-5"}, "intervals"),
        ({"holidays_country": "XX"}, "holidays_country"),
        ({"holidays_subdivision": "NOPE"}, "holidays_subdivision"),
        ({"extra_holidays": ["Christmas"]}, "extra_holidays"),
        ({"extra_holidays": "2026-12-24"}, "extra_holidays"),
    ],
)
def test_bad_calendar_is_a_400_naming_the_field(manager_client, change, field):
    response = manager_client.post("/api/business-hours/", {**CALENDAR_BODY, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"targets": {}}, "targets"),
        ({"targets": {"first_response": 0}}, "targets"),
        ({"targets": {"first_response": "soon"}}, "targets"),
        ({"targets": {"first_response": 1.5}}, "targets"),
        ({"targets": {"first_reply": 10}}, "targets"),
        ({"targets": [15, 30]}, "targets"),
        ({"match": {"all": [{"field": "conversation.mood", "op": "eq", "value": "x"}]}}, "match"),
        ({"match": {"all": [{"field": "conversation.priority", "op": "like", "value": "x"}]}}, "match"),
        ({"match": {"all": [{"field": "contact.segment", "op": "matches", "value": "(unclosed"}]}}, "match"),
        ({"match": {"all": [{"field": "conversation.priority", "op": "in", "value": "urgent"}]}}, "match"),
        ({"match": "priority = urgent"}, "match"),
        ({"pause_on": ["resolved"]}, "pause_on"),
        ({"pause_on": "pending"}, "pause_on"),
        ({"warning_percent": 150}, "warning_percent"),
        ({"business_hours": 999}, "business_hours"),
    ],
)
def test_bad_policy_is_a_400_naming_the_field(manager_client, change, field):
    response = manager_client.post("/api/sla-policies/", {**POLICY_BODY, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_ids_are_404(manager_client):
    assert manager_client.get("/api/sla-policies/12345/").status_code == 404
    assert manager_client.get("/api/business-hours/12345/").status_code == 404


def test_a_calendar_in_use_cannot_be_deleted_but_says_why(manager_client):
    calendar_id = manager_client.post("/api/business-hours/", CALENDAR_BODY, format="json").json()["id"]
    manager_client.post("/api/sla-policies/", {**POLICY_BODY, "business_hours": calendar_id}, format="json")
    response = manager_client.delete(f"/api/business-hours/{calendar_id}/")
    assert response.status_code == 400
    assert "business_hours" in response.json()


def test_conversation_targets_read_with_due_time_and_time_left(clock, policy, customer):
    conversation = open_conversation(customer)
    services.message_create(conversation=conversation, body="Hi", sender_type="agent")
    clock.advance(minutes=1)
    services.message_create(conversation=conversation, body="Thanks, but", sender_type="customer")
    clock.advance(minutes=10)
    data = SlaTargetSerializer(targets_for(conversation), many=True).data
    assert [(row["metric"], row["state"], row["remaining_seconds"]) for row in data] == [
        ("first_response", "met", None),
        ("next_response", "active", 20 * 60),
        ("resolution", "active", 469 * 60),
    ]
    assert data[2]["due_at"] == "2026-06-08T17:00:00Z" and data[2]["breached_at"] is None


def test_breached_filter_helper_finds_conversations_with_a_breach(clock, policy, customer):
    late = open_conversation(customer)
    clock.advance(minutes=30)
    on_time = open_conversation(customer)
    run_sweep(now=MONDAY_9AM + dt.timedelta(minutes=61))
    assert list(Conversation.objects.filter(breached_conversation_ids_q())) == [late]
    assert list(Conversation.objects.filter(breached_conversation_ids_q(False))) == [on_time]


def test_conversations_api_filters_on_sla_breached(clock, policy, customer, agent_client):
    late = open_conversation(customer)
    clock.advance(minutes=30)
    on_time = open_conversation(customer)
    run_sweep(now=MONDAY_9AM + dt.timedelta(minutes=61))
    breached = agent_client.get("/api/conversations/", {"sla_breached": "true"}).json()["results"]
    not_breached = agent_client.get("/api/conversations/", {"sla_breached": "false"}).json()["results"]
    assert ([row["id"] for row in breached], [row["id"] for row in not_breached]) == ([late.pk], [on_time.pk])


def test_conversations_read_back_with_their_sla_targets(clock, policy, customer, agent_client):
    conversation = open_conversation(customer)
    clock.advance(minutes=10)
    body = agent_client.get(f"/api/conversations/{conversation.pk}/").json()
    assert body["sla"] == [
        {
            "metric": "first_response",
            "due_at": "2026-06-08T10:00:00Z",
            "state": "active",
            "breached_at": None,
            "met_at": None,
            "remaining_seconds": 50 * 60,
            "paused_seconds": 0,
        },
        {
            "metric": "resolution",
            "due_at": "2026-06-08T17:00:00Z",
            "state": "active",
            "breached_at": None,
            "met_at": None,
            "remaining_seconds": 470 * 60,
            "paused_seconds": 0,
        },
    ]


def test_a_paused_target_reads_with_no_due_time_its_time_left_and_time_paused(clock, policy, customer, agent_client):
    conversation = open_conversation(customer)
    clock.advance(minutes=10)
    services.conversation_change_status(conversation=conversation, status="on_hold")
    clock.advance(minutes=25)
    first = agent_client.get(f"/api/conversations/{conversation.pk}/").json()["sla"][0]
    assert (first["state"], first["due_at"], first["remaining_seconds"], first["paused_seconds"]) == (
        "paused",
        None,
        50 * 60,
        25 * 60,
    )


def test_a_conversation_without_a_policy_has_an_empty_sla_list(customer, agent_client):
    conversation = open_conversation(customer)
    assert agent_client.get(f"/api/conversations/{conversation.pk}/").json()["sla"] == []


def test_listing_conversations_with_targets_costs_the_same_queries_for_more_rows(
    clock, policy, customer, agent_client, django_assert_max_num_queries
):
    open_conversation(customer)
    with CaptureQueriesContext(connection) as one_row:
        agent_client.get("/api/conversations/")
    for _ in range(5):
        open_conversation(customer)
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        rows = agent_client.get("/api/conversations/").json()["results"]
    assert [len(row["sla"]) for row in rows] == [2] * 6

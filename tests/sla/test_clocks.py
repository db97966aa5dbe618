"""Per-conversation SLA clocks kept up to date by domain events: start, meet, pause, resume, re-selection."""

import datetime as dt

import pytest

from conversations import services
from conversations.models import Event
from sla.models import SlaTarget
from tests.support.sla import MONDAY_9AM, make_policy, open_conversation

pytestmark = pytest.mark.django_db


def target(conversation, metric) -> SlaTarget:
    rows = SlaTarget.objects.filter(conversation=conversation, metric=metric).order_by("-started_at", "-id")
    return rows.first()


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def test_new_conversation_gets_first_response_and_resolution_clocks(clock, policy, customer):
    conversation = open_conversation(customer)
    first = target(conversation, "first_response")
    expected = ("active", MONDAY_9AM + minutes(60), MONDAY_9AM + minutes(48))
    assert (first.state, first.due_at, first.warning_at) == expected
    assert target(conversation, "resolution").due_at == MONDAY_9AM + minutes(480)
    assert target(conversation, "next_response") is None


def test_business_hours_policy_counts_only_open_time(clock, office_hours, customer):
    make_policy(business_hours=office_hours)
    clock.now = dt.datetime(2026, 6, 12, 14, 30, tzinfo=dt.UTC)  # Friday 16:30 in Berlin
    conversation = open_conversation(customer)
    assert target(conversation, "first_response").due_at == dt.datetime(2026, 6, 15, 7, 30, tzinfo=dt.UTC)


def test_public_agent_reply_meets_first_response_but_an_internal_note_does_not(clock, policy, customer):
    conversation = open_conversation(customer)
    clock.advance(minutes=10)
    services.message_create(conversation=conversation, body="Looking into it", sender_type="agent", internal=True)
    assert target(conversation, "first_response").state == "active"
    services.message_create(conversation=conversation, body="Hello!", sender_type="agent")
    first = target(conversation, "first_response")
    assert (first.state, first.met_at) == ("met", MONDAY_9AM + minutes(10))
    assert target(conversation, "resolution").state == "active"


def test_customer_message_after_a_reply_starts_one_next_response_clock(clock, policy, customer):
    conversation = open_conversation(customer)
    services.message_create(conversation=conversation, body="Hi", sender_type="customer")
    assert target(conversation, "next_response") is None  # the first response covers the opening message
    clock.advance(minutes=5)
    services.message_create(conversation=conversation, body="Hello!", sender_type="agent")
    clock.advance(minutes=5)
    services.message_create(conversation=conversation, body="Still broken", sender_type="customer")
    clock.advance(minutes=1)
    services.message_create(conversation=conversation, body="Any news?", sender_type="customer")
    clocks = SlaTarget.objects.filter(conversation=conversation, metric="next_response")
    assert [(c.state, c.due_at) for c in clocks] == [("active", MONDAY_9AM + minutes(10 + 30))]
    clock.advance(minutes=4)
    services.message_create(conversation=conversation, body="Fixed now", sender_type="agent")
    assert target(conversation, "next_response").state == "met"


def test_pending_pauses_the_clocks_and_reopening_shifts_the_due_time(clock, policy, customer):
    conversation = open_conversation(customer)
    clock.advance(minutes=20)
    services.conversation_change_status(conversation=conversation, status="pending")
    paused = target(conversation, "first_response")
    assert (paused.state, paused.due_at) == ("paused", None)
    clock.advance(minutes=60)
    services.conversation_change_status(conversation=conversation, status="open")
    resumed = target(conversation, "first_response")
    assert (resumed.state, resumed.due_at, resumed.paused_seconds) == ("active", clock.now + minutes(40), 3600)


def test_a_status_outside_pause_on_does_not_pause(clock, customer):
    make_policy(pause_on=["pending"])
    conversation = open_conversation(customer)
    services.conversation_change_status(conversation=conversation, status="on_hold")
    assert target(conversation, "first_response").state == "active"


def test_resolving_meets_resolution_and_reopening_resumes_it(clock, policy, customer):
    conversation = open_conversation(customer)
    clock.advance(minutes=50)
    services.conversation_change_status(conversation=conversation, status="resolved")
    assert target(conversation, "resolution").state == "met"
    assert target(conversation, "first_response") is None  # nobody owes a first reply on a solved case
    clock.advance(minutes=30)
    services.message_create(conversation=conversation, body="It broke again", sender_type="customer")
    reopened = target(conversation, "resolution")
    assert (reopened.state, reopened.due_at) == ("active", clock.now + minutes(430))


def test_the_first_matching_policy_by_position_applies(clock, customer):
    make_policy(name="Default", position=10, targets={"first_response": 60})
    make_policy(
        name="Urgent",
        position=1,
        targets={"first_response": 15},
        match={"all": [{"field": "conversation.priority", "op": "in", "value": ["high", "urgent"]}]},
    )
    urgent = open_conversation(customer, priority="urgent")
    normal = open_conversation(customer)
    assert target(urgent, "first_response").policy.name == "Urgent"
    assert target(normal, "first_response").policy.name == "Default"


def test_no_matching_policy_means_no_clocks(clock, customer):
    make_policy(match={"all": [{"field": "conversation.channel", "op": "eq", "value": "phone"}]})
    conversation = open_conversation(customer)
    assert not SlaTarget.objects.filter(conversation=conversation).exists()


def test_raising_the_priority_moves_running_clocks_to_the_stricter_policy(clock, customer):
    make_policy(name="Default", position=10, targets={"first_response": 60, "resolution": 480})
    make_policy(
        name="Urgent",
        position=1,
        targets={"first_response": 15},
        match={"all": [{"field": "conversation.priority", "op": "eq", "value": "urgent"}]},
    )
    conversation = open_conversation(customer)
    clock.advance(minutes=10)
    services.conversation_set_priority(conversation=conversation, priority="urgent")
    first = target(conversation, "first_response")
    # 10 minutes already used; 5 left of the new 15-minute target.
    assert (first.policy.name, first.due_at) == ("Urgent", MONDAY_9AM + minutes(15))
    assert target(conversation, "resolution") is None  # the urgent policy does not measure resolution


def test_reassigning_to_a_team_with_its_own_policy_reselects(clock, customer):
    billing = services.team_create(name="Billing")
    make_policy(name="Default", position=10, targets={"first_response": 60})
    make_policy(
        name="Billing",
        position=1,
        targets={"first_response": 240},
        match={"any": [{"field": "conversation.team", "op": "eq", "value": "billing"}]},
    )
    conversation = open_conversation(customer)
    services.conversation_assign(conversation=conversation, team=billing)
    assert target(conversation, "first_response").due_at == MONDAY_9AM + minutes(240)
    services.conversation_assign(conversation=conversation, team=None)
    assert target(conversation, "first_response").due_at == MONDAY_9AM + minutes(60)


def test_a_contact_moving_segment_reselects_its_conversations(clock, customer):
    make_policy(name="Default", position=10, targets={"first_response": 60})
    make_policy(
        name="Enterprise",
        position=1,
        targets={"first_response": 20},
        match={"all": [{"field": "contact.segment", "op": "eq", "value": "enterprise"}]},
    )
    conversation = open_conversation(customer)
    services.contact_update(contact=customer, segment="enterprise")
    assert target(conversation, "first_response").policy.name == "Enterprise"


def test_a_policy_created_later_applies_from_the_conversation_start_on_reselection(clock, customer):
    conversation = open_conversation(customer)
    make_policy(targets={"first_response": 60})
    clock.advance(minutes=10)
    services.conversation_set_priority(conversation=conversation, priority="high")
    assert target(conversation, "first_response").due_at == MONDAY_9AM + minutes(60)


def test_a_reply_after_the_due_time_breaches_instead_of_meeting(clock, policy, customer):
    conversation = open_conversation(customer)
    clock.advance(minutes=90)  # no sweep ran in between
    services.message_create(conversation=conversation, body="Sorry for the wait", sender_type="agent")
    first = target(conversation, "first_response")
    assert (first.state, first.breached_at) == ("breached", MONDAY_9AM + minutes(60))
    breaches = Event.objects.filter(type="sla.breached", conversation=conversation)
    assert [e.payload["metric"] for e in breaches] == ["first_response"]

"""The gallery's waiting and branching templates (docs/managers.md) do what their names say, through the real engine."""

import datetime as dt

import pytest

from conversations import clock, services
from tests.support.runs import drain
from workflows import services as workflow_services
from workflows.engine.sweep import sweep_once
from workflows.gallery import catalog as gallery


def activate(slug):
    template = gallery.get_template(slug)
    return workflow_services.workflow_create(definition={**template.definition, "status": "active"})


def open_conversation(**attributes):
    contact = services.contact_create(name="Ada", email="ada@example.com", attributes=attributes)
    conversation = services.conversation_open(contact=contact, channel="email", subject="My order")
    drain()
    return conversation


def at(days, minutes=0):
    return clock.travel(dt.timedelta(days=days, minutes=minutes))


def state(conversation):
    conversation.refresh_from_db()
    bodies = list(conversation.messages.filter(sender_type="ai").values_list("body", flat=True))
    return conversation.status, sorted(conversation.tags.values_list("name", flat=True)), len(bodies)


def test_ask_for_the_order_number_tags_the_answer(db):
    activate("ask-order-number-nudge-close")
    conversation = open_conversation()
    with at(0, 5):
        services.message_create(conversation=conversation, body="It is A-1234", sender_type="customer")
        drain()
    assert state(conversation) == ("new", ["order-number-received"], 1)


def test_ask_for_the_order_number_nudges_once_then_closes(db):
    activate("ask-order-number-nudge-close")
    conversation = open_conversation()
    with at(1, 1):
        sweep_once()
    assert state(conversation)[1:] == ([], 2)  # nudged
    with at(2, 2):
        sweep_once()
    assert state(conversation) == ("closed", ["no-answer"], 2)


def test_ask_for_the_order_number_takes_an_answer_after_the_nudge(db):
    activate("ask-order-number-nudge-close")
    conversation = open_conversation()
    with at(1, 1):
        sweep_once()
    with at(1, 30):
        services.message_create(conversation=conversation, body="Sorry: A-1", sender_type="customer")
        drain()
    assert state(conversation) == ("new", ["order-number-received"], 2)


@pytest.mark.parametrize(
    "attributes, team",
    [({"vip": True, "plan": "enterprise"}, "VIP Support"), ({"plan": "enterprise"}, "Billing"), ({}, "Support")],
)
def test_route_by_plan_sends_each_plan_to_its_team(db, attributes, team):
    for name in ("VIP Support", "Billing", "Support"):
        services.team_create(name=name)
    activate("route-by-plan-branches")
    conversation = open_conversation(**attributes)
    conversation.refresh_from_db()
    assert conversation.team.name == team

"""Pages a manager reads name rows and codes in words: the dry run of a `route` step given a team by id says the team's
name and the strategy as "Least busy", never "Team id 3" or `least_busy`; an explanation names a trigger's filter
in words ("Sender types"), not by its config key."""

import json
import re

from django.urls import reverse

from conversations import services as conversation_services
from tests.support.runs import drain
from workflows import services


def visible(html: str) -> str:
    """The page's text outside <details> toggles, <script>, <template> and form fields (what a person reads)."""
    for tag in ("details", "script", "template", "textarea", "select", "style"):
        html = re.sub(rf"<{tag}\b.*?</{tag}>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_dry_run_of_a_route_names_the_team_and_the_strategy(browser, conversation, team):
    workflow = services.workflow_create(
        definition={
            "name": "Route to support",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
            "steps": [{"type": "route", "config": {"team": team.pk, "strategy": "least_busy"}}],
        }
    )
    event = {"payload": {"body": "Where is my parcel?", "sender_type": "customer"}}
    response = browser.post(
        reverse("admin:workflows_workflow_test"),
        {"workflow": workflow.pk, "conversation": conversation.pk, "event": json.dumps(event)},
    )
    (row,) = response.context["rows"]
    assert row["sentence"] == "Would route Support"
    facts = dict(row["facts"])
    assert facts["Team"] == "Support" and facts["Strategy"] == "Least busy"
    assert not any(name.endswith(" id") for name in facts)
    text = visible(response.content.decode())
    assert "Team id" not in text and "least_busy" not in text and f"route {team.pk}" not in text


def test_the_event_page_explains_a_filtered_out_workflow_in_words(browser, conversation):
    services.workflow_create(
        definition={
            "name": "Customers only",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
            "steps": [{"type": "add_tag", "config": {"tags": ["seen"]}}],
        }
    )
    message = conversation_services.message_create(conversation=conversation, body="On it", sender_type="agent")
    drain()
    event = message.conversation.events.get(type="message.created")
    text = visible(browser.get(reverse("admin:conversations_event_change", args=[event.pk])).content.decode())
    assert "Customers only" in text
    assert "Sender types" in text and "sender_types" not in text


def test_the_automation_panel_names_events_in_words(browser, conversation):
    services.workflow_create(
        definition={
            "name": "Customers only",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
            "steps": [{"type": "add_tag", "config": {"tags": ["seen"]}}],
        }
    )
    conversation_services.message_create(conversation=conversation, body="Hello", sender_type="customer")
    drain()
    text = visible(
        browser.get(reverse("admin:conversations_conversation_change", args=[conversation.pk])).content.decode()
    )
    assert "Message" in text and "New conversation" in text
    assert "message.created" not in text and "conversation.created" not in text

"""Dry run and run history in words: what a step would do as a sentence, condition checks with labels, the event
that started a run as a sentence — no `{"would": ...}` dumps or ids in the visible text (JSON behind a toggle)."""

import json
import re

import pytest
from django.urls import reverse

from conversations import services as conversation_services
from tests.support.runs import drain
from workflows import services
from workflows.models import WorkflowRun

DEFINITION = {
    "name": "Refunds",
    "status": "active",
    "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
    "steps": [
        {
            "type": "condition",
            "config": {"all": [{"field": "conversation.status", "op": "in", "value": ["new", "on_hold"]}]},
            "on_false": "stop",
        },
        {"type": "add_tag", "config": {"tags": ["refund"]}},
        {"type": "change_status", "config": {"status": "on_hold"}},
    ],
}


def visible(html: str) -> str:
    """The page's text outside <details> toggles, <script>, <template> and form values (what a person reads)."""
    for tag in ("details", "script", "template", "textarea", "select", "style"):
        html = re.sub(rf"<{tag}\b.*?</{tag}>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def workflow(db):
    return services.workflow_create(definition=DEFINITION)


def test_dry_run_says_what_each_step_would_do_in_words(browser, workflow, conversation):
    event = {"payload": {"body": "Where is my parcel?", "sender_type": "customer"}}
    response = browser.post(
        reverse("admin:workflows_workflow_test"),
        {"workflow": workflow.pk, "conversation": conversation.pk, "event": json.dumps(event)},
    )
    rows = response.context["rows"]
    assert [row["sentence"] for row in rows] == [
        "Check the conditions",
        "Would add tag refund",
        "Would change status On hold",
    ]
    assert rows[0]["checks"][0]["words"] == "Conversation status is one of New, On hold (saw New)"
    text = visible(response.content.decode())
    assert "Would add tag refund" in text and '{"' not in text and "on_hold" not in text
    assert '"would": "Add tag"' in response.content.decode().replace("&quot;", '"')  # JSON kept behind the toggle


def test_run_page_names_the_event_in_words(browser, workflow, conversation):
    conversation_services.message_create(conversation=conversation, body="where is my parcel", sender_type="customer")
    drain()
    run = WorkflowRun.objects.get(workflow=workflow)
    page = browser.get(reverse("admin:workflows_workflowrun_change", args=[run.pk])).content.decode()
    sentence = f"Customer message “where is my parcel” on Conversation #{conversation.pk}"
    assert sentence in page
    text = visible(page)
    assert "Added tag" not in text and "Add tag refund" in text and '{"' not in text


def test_event_page_says_what_happened_and_keeps_the_payload_behind_a_toggle(browser, conversation):
    conversation_services.conversation_change_status(conversation=conversation, status="on_hold")
    event = conversation.events.get(type="conversation.status_changed")
    page = browser.get(reverse("admin:conversations_event_change", args=[event.pk])).content.decode()
    assert f"Status changed from New to On hold on Conversation #{conversation.pk}" in page
    assert '{"' not in visible(page) and "<details><summary>JSON</summary>" in page


def test_dry_run_takes_a_sample_message_in_plain_fields_at_its_own_time(browser, manager):
    from sla.models import BusinessHours

    BusinessHours.objects.create(
        name="Berlin office",
        timezone="Europe/Berlin",
        intervals=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
    )
    after_hours = services.workflow_create(
        definition={
            "name": "After hours",
            "status": "draft",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
            "steps": [
                {
                    "type": "condition",
                    "config": {
                        "all": [
                            {"field": "event.occurred_at", "op": "outside_business_hours", "value": "Berlin office"}
                        ]
                    },
                    "on_false": "stop",
                },
                {"type": "add_tag", "config": {"tags": ["after-hours"]}},
            ],
        }
    )
    outcomes = {}
    for moment in ("2026-12-02T10:00", "2026-12-02T20:00"):  # a Wednesday, in the viewer's zone (UTC here)
        response = browser.post(
            reverse("admin:workflows_workflow_test"),
            {"workflow": after_hours.pk, "message_body": "Hello?", "sender_type": "customer", "occurred_at": moment},
        )
        assert response.context["report"]["trigger"]["matches"] is True
        outcomes[moment] = response.context["report"]["result"]["status"]
        saw = moment.replace("T", " ") + " UTC"  # the event's time in the viewer's zone and the one format
        assert response.context["rows"][0]["checks"][0]["words"] == (
            f"Event occurred at is outside business hours of Berlin office (saw {saw})"
        )
        assert "Trigger New message on a message event" in visible(response.content.decode())
    assert outcomes == {"2026-12-02T10:00": "stopped", "2026-12-02T20:00": "succeeded"}


def test_event_list_filters_by_event_in_words(browser, conversation):
    conversation_services.conversation_change_status(conversation=conversation, status="on_hold")
    page = browser.get("/admin/conversations/event/?type=conversation.status_changed").content.decode()
    assert "Status changed</a>" in page and "status_changed" not in visible(page)
    assert browser.get("/admin/conversations/event/").context["cl"].result_count > 1
    assert browser.get("/admin/conversations/event/?type=conversation.status_changed").context["cl"].result_count == 1


def test_conversation_history_lists_events_in_words(browser, conversation):
    conversation_services.message_create(conversation=conversation, body="where is my parcel", sender_type="customer")
    conversation_services.conversation_change_status(conversation=conversation, status="on_hold")
    page = browser.get(reverse("admin:conversations_conversation_change", args=[conversation.pk])).content.decode()
    assert "Status changed from New to On hold" in page and "Customer message" in page
    assert "&quot;message_id&quot;" not in page and '"message_id"' not in page

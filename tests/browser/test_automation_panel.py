"""Workflow order and "why did it fire" (docs/managers.md) in the admin, in a real browser: a manager drags a workflow
above another in the workflow list and the order is saved (so the next message is dispatched in it); the conversation
page's "Automation" panel and the event's page say, per workflow, what each event did and why, linked to the runs.
Screenshots (1440x900) land in tests/browser/artifacts/.
"""

from __future__ import annotations

import re

import pytest

from conversations import services as conversation_services
from tests.support.browser import log_in
from tests.support.people import make_user
from tests.support.runs import drain
from workflows import services
from workflows.models import Workflow

pytestmark = pytest.mark.django_db(transaction=True)


def workflow(name: str, **extra) -> Workflow:
    return services.workflow_create(
        definition={
            "name": name,
            "status": "active",
            "trigger": {"type": "message.created", "config": extra.pop("config", {})},
            "steps": extra.pop("steps", [{"type": "add_tag", "config": {"tags": [name.lower().replace(" ", "-")]}}]),
            **extra,
        }
    )


@pytest.fixture
def manager_page(live_server, chromium, roles):
    make_user("manager", "Support managers")
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, live_server.url, "manager")
    return page


def test_dragging_a_row_reorders_the_workflows(manager_page, live_server, shot):
    first, second = workflow("Refund desk", stop_processing=True), workflow("Tag everything")
    page = manager_page
    page.goto(f"{live_server.url}/admin/workflows/workflow/")
    handles = page.locator("#result_list .wf-drag")
    assert [handles.nth(i).get_attribute("data-workflow") for i in range(2)] == [str(first.pk), str(second.pk)]
    page.drag_and_drop(
        f'.wf-drag[data-workflow="{second.pk}"]',
        f'.wf-drag[data-workflow="{first.pk}"]',
        target_position={"x": 2, "y": 1},
    )
    page.wait_for_selector("#wf-reorder-status:has-text('Order saved.')")
    shot(page, "workflow-list-reordered")
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.order < first.order and (first.version, second.version) == (2, 2)
    page.reload()
    assert page.locator("#result_list .wf-drag").first.get_attribute("data-workflow") == str(second.pk)


def test_automation_panel_explains_each_event(manager_page, live_server, shot):
    contact = conversation_services.contact_create(name="Pat Parcel", email="pat@example.com")
    conversation = conversation_services.conversation_open(contact=contact, channel="email", subject="Parcel")
    refunds = workflow("Refunds", config={"content_contains": ["refund"]})
    workflow("Later", status="draft")
    tagger = workflow("Tag everything")
    conversation_services.message_create(conversation=conversation, body="where is my parcel", sender_type="customer")
    drain()
    page = manager_page
    page.goto(f"{live_server.url}/admin/conversations/conversation/{conversation.pk}/change/")
    panel = page.locator("#automation-panel")
    event = panel.locator(".wf-auto-event", has=page.locator('[title="message.created"]'))
    assert event.locator('[data-outcome="filtered_out"]').inner_text().count('none of ["refund"]') == 1
    assert "draft" in event.locator('[data-outcome="not_active"]').inner_text()
    panel.scroll_into_view_if_needed()
    shot(page, "conversation-automation-panel")
    event.locator('[data-outcome="started"] a', has_text="run #").click()
    page.wait_for_url(re.compile(r"/admin/workflows/workflowrun/\d+/change/"))
    assert "Tag everything" in page.content()
    page.go_back()
    event.locator("a.wf-auto-meta", has_text="event").click()
    page.wait_for_url(re.compile(r"/admin/conversations/event/.+/change/"))
    outcomes = page.locator("#automation-panel [data-outcome]")
    assert [outcomes.nth(i).get_attribute("data-outcome") for i in range(3)] == [
        "filtered_out",
        "not_active",
        "started",
    ]  # in dispatch order: the order they were created in
    shot(page, "event-automation-panel")
    assert refunds.order < tagger.order

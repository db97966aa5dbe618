"""A support manager's whole journey in a real browser (headless chromium against the live server): use a template,
edit a step, hit and fix a validation error, activate, dry-run, let a real message trigger it, and find the run in
the run history and the analytics chart. An agent cannot open the workflow pages.

Screenshots of every page land in tests/browser/artifacts/.
"""

from __future__ import annotations

import re

import pytest
import requests
from django.utils import timezone
from rest_framework.authtoken.models import Token

from conversations import clock
from conversations import services as conversation_services
from tests.support.browser import log_in, save_and_continue
from tests.support.people import make_user
from workflows.engine.sweep import sweep_once
from workflows.models import Workflow, WorkflowRun

TEMPLATE = "after-hours-auto-reply"
CONDITION_VALUE = "steps[0].config.all[0].value"
CONDITION_OP = "steps[0].config.all[0].op"


def set_condition_value(page, value: str) -> None:
    """Type the first condition's value in the step's condition builder."""
    page.fill(f'[name="{CONDITION_VALUE}"]', value)


def activate_with_toggle(page, base_url: str, workflow: Workflow) -> None:
    """Switch the workflow on with the on/off toggle of its row in the workflow list."""
    page.goto(f"{base_url}/admin/workflows/workflow/")
    toggle = f'button.wf-toggle[formaction*="/{workflow.pk}/toggle/"]'
    assert page.get_attribute(toggle, "aria-pressed") == "false"
    page.click(toggle)
    page.wait_for_load_state()
    assert page.get_attribute(toggle, "aria-pressed") == "true"


@pytest.mark.django_db(transaction=True)
def test_manager_builds_tests_activates_and_watches_a_workflow(live_server, new_page, shot, roles):
    manager = make_user("manager", "Support managers")
    contact = conversation_services.contact_create(name="Night Owl", email="owl@example.com")
    conversation = conversation_services.conversation_open(
        contact=contact, channel="live_chat", subject="Late question"
    )
    base = live_server.url
    page = new_page()
    log_in(page, base, "manager")

    # 1. The gallery: use a template, which opens the new draft in the editor.
    page.goto(f"{base}/admin/workflows/workflow/templates/")
    assert page.locator(".wf-card").count() >= 12
    shot(page, "01-templates-gallery")
    page.click(f'[data-template="{TEMPLATE}"] input[type=submit]')
    page.wait_for_url(re.compile(r"/admin/workflows/workflow/\d+/change/"))
    workflow = Workflow.objects.get()
    assert workflow.status == "draft"
    shot(page, "02-editor-from-template")

    # 2. Edit a step with a calendar that does not exist: the validator's error is shown and nothing is saved.
    set_condition_value(page, "Nowhere office")
    save_and_continue(page)
    assert page.locator(".errorlist, .errornote").first.is_visible()
    assert 'No business-hours calendar "Nowhere office"' in page.content()
    shot(page, "03-editor-bad-regex")
    workflow.refresh_from_db()
    assert workflow.version == 1

    # 3. Fix it (match every time: the event always has a time) and save: a new version.
    page.select_option(f'[name="{CONDITION_OP}"]', "is_set")
    save_and_continue(page)
    assert page.locator(".errornote").count() == 0
    workflow.refresh_from_db()
    assert workflow.version == 2
    shot(page, "04-editor-saved")

    # 4. Activate it from the list.
    activate_with_toggle(page, base, workflow)
    workflow.refresh_from_db()
    assert workflow.status == "active"
    shot(page, "05-workflow-list-active")

    # 5. Dry run on the conversation: every step would run, nothing changes.
    page.goto(f"{base}/admin/workflows/workflow/test/?q=Late")
    page.select_option("#id_workflow", str(workflow.pk))
    page.check(f"#conv-{conversation.pk}")
    page.fill("#id_message_body", "Anyone there?")  # a customer message by default
    page.click('input[name="dry-run"]')
    page.wait_for_selector("#dry-run-report")
    assert page.locator(".wf-yes").inner_text() == "✔ would start the workflow"
    assert "Hi Night Owl" in page.inner_text(".wf-timeline")
    statuses = page.locator(".wf-timeline > li").evaluate_all("items => items.map(i => i.dataset.status)")
    assert statuses == ["would_run", "would_run", "would_run"]
    shot(page, "06-dry-run")
    assert not WorkflowRun.objects.exists()

    # 6. A customer message through the API (token auth) starts a real run.
    token = Token.objects.create(user=manager)
    response = requests.post(
        f"{base}/api/conversations/{conversation.pk}/messages/",
        json={"body": "Anyone there?", "sender_type": "customer"},
        headers={"Authorization": f"Token {token.key}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    sweep_once()  # the worker's work, in this process (the queue is synchronous in tests anyway)
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "succeeded"

    # 7. The run history: the run and its step timeline.
    page.goto(f"{base}/admin/workflows/workflowrun/?workflow__id__exact={workflow.pk}")
    shot(page, "07-run-list")
    page.click(f'#result_list a[href*="/workflowrun/{run.pk}/change/"]')
    page.wait_for_selector(".wf-timeline")
    steps = page.locator(".wf-timeline > li").evaluate_all("items => items.map(i => i.dataset.status)")
    assert steps == ["succeeded", "succeeded", "succeeded"]
    assert "Hi Night Owl" in page.content()
    shot(page, "08-run-page")

    # 8. Analytics: today's bar counts the run, and the figures match the API.
    today = timezone.localdate(clock.now()).isoformat()
    page.goto(f"{base}/admin/workflows/workflow/analytics/")
    bar = page.locator(f'svg.execution-trend g.day[data-date="{today}"]')
    assert bar.get_attribute("data-executions") == "1"
    assert bar.locator("rect.bar-succeeded").count() == 1
    api = requests.get(
        f"{base}/api/analytics/workflows/", headers={"Authorization": f"Token {token.key}"}, timeout=30
    ).json()
    assert page.inner_text("#stat-executions b") == str(api["totals"]["executions"]) == "1"
    shot(page, "09-analytics")


@pytest.mark.django_db(transaction=True)
def test_agent_cannot_open_the_workflow_pages(live_server, new_page, shot, roles):
    make_user("agent", "Agents")
    page = new_page()
    log_in(page, live_server.url, "agent")
    pages = [
        ("workflows", "/admin/workflows/workflow/"),
        ("templates", "/admin/workflows/workflow/templates/"),
        ("test", "/admin/workflows/workflow/test/"),
        ("runs", "/admin/workflows/workflowrun/"),
        ("analytics", "/admin/workflows/workflow/analytics/"),
    ]
    for name, path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, (name, response.status)
    shot(page, "10-agent-forbidden")
    page.goto(f"{live_server.url}/admin/")
    assert page.locator('a[href="/admin/workflows/workflow/"]').count() == 0
    assert page.locator('a[href="/admin/conversations/conversation/"]').count() >= 1

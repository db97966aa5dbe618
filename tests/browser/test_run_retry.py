"""Retry from the failed step in a real browser: the run page offers the version the run ran and the current one;
retrying on the current version runs the step that replaced the failed one, and the page says which version ran.
Screenshots: tests/browser/artifacts/run-retry*.png."""

from __future__ import annotations

import pytest

from conversations import services as conversation_services
from tests.support.browser import log_in
from tests.support.people import make_user
from tests.support.runs import drain
from workflows import services
from workflows.models import WorkflowRun

PRIORITY = {"type": "set_priority", "config": {"priority": "high"}}


@pytest.mark.django_db(transaction=True)
def test_retry_on_the_current_version_from_the_run_page(live_server, new_page, shot, roles):
    retention = conversation_services.team_create(name="Retention")
    workflow = services.workflow_create(
        definition={
            "name": "Route to retention",
            "status": "active",
            "trigger": {"type": "manual", "config": {}},
            "steps": [PRIORITY, {"type": "route", "config": {"team": "Retention", "strategy": "specific"}}],
        }
    )
    retention.delete()
    contact = conversation_services.contact_create(name="Ada", email="ada@example.com")
    conversation = conversation_services.conversation_open(contact=contact, channel="email", subject="Cancel")
    run = services.workflow_run_manual(workflow=workflow, conversation=conversation)
    drain()
    definition = services.workflow_definition(workflow)
    definition["steps"][1] = {"type": "add_tag", "config": {"tags": ["retention"]}}
    services.workflow_update(workflow=workflow, definition=definition)

    make_user("manager", "Support managers")
    page = new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/admin/workflows/workflowrun/{run.pk}/change/")
    assert page.inner_text("#retry-original") == "Retry on the version it ran (v1)"
    assert page.inner_text("#retry-current") == "Retry on the current version (v2)"
    shot(page, "run-retry-buttons")
    page.click("#retry-current")
    page.wait_for_load_state()
    assert "on version 2 (the current version)" in page.inner_text(".messagelist")
    shot(page, "run-retry-done")
    run = WorkflowRun.objects.get(pk=run.pk)
    assert (run.status, run.version, run.first_version, run.retried_on) == ("succeeded", 2, 1, "current")

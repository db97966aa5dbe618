"""The managers' workflow admin: the definition form uses the shared validator; agents cannot open it."""
import json

import pytest
from django.test import Client

from workflows.models import Workflow, WorkflowVersion

DEFINITION = {
    "name": "Tag refunds", "description": "", "status": "draft",
    "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
    "steps": [{"type": "add_tag", "config": {"tags": ["refund"]}}],
}


@pytest.fixture
def manager_browser(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def test_manager_creates_workflow_from_definition(manager_browser):
    response = manager_browser.post("/admin/workflows/workflow/add/", {"definition": json.dumps(DEFINITION)})
    assert response.status_code == 302, response.content[:2000]
    workflow = Workflow.objects.get(name="Tag refunds")
    assert workflow.steps.get().type == "add_tag"
    assert WorkflowVersion.objects.filter(workflow=workflow, version=1).exists()


def test_bad_regex_is_a_form_error_naming_step_and_key(manager_browser):
    bad = {**DEFINITION, "steps": [{"type": "condition", "config": {
        "all": [{"field": "message.body", "op": "matches", "value": "(unclosed"}]}}]}
    response = manager_browser.post("/admin/workflows/workflow/add/", {"definition": json.dumps(bad)})
    assert response.status_code == 200
    assert "steps[0].config.all[0].value" in response.content.decode()
    assert not Workflow.objects.exists()


def test_changelist_and_activate_action(manager_browser, make_workflow):
    workflow = make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["x"]}}], status="draft")
    assert manager_browser.get("/admin/workflows/workflow/").status_code == 200
    manager_browser.post("/admin/workflows/workflow/", {"action": "activate", "_selected_action": [workflow.pk]})
    workflow.refresh_from_db()
    assert workflow.status == "active"
    assert workflow.version == 2


def test_agent_cannot_open_workflow_admin(agent):
    client = Client()
    client.force_login(agent)
    assert client.get("/admin/workflows/workflow/").status_code == 403

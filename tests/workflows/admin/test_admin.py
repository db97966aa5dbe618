"""The managers' workflow list: badges and counts without a query per row, the on/off toggle, actions, JSON import
and export, the summary bar; and the roles: agents cannot open workflow, integration or SLA admin."""

import json

from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services as conversation_services
from tests.support.forms import DEFINITION
from tests.support.people import browser_for
from tests.support.runs import drain
from workflows import services
from workflows.models import Workflow, WorkflowVersion

LIST_URL = "/admin/workflows/workflow/"
TAG = [{"type": "add_tag", "config": {"tags": ["x"]}}]


def test_raw_definition_post_still_creates_a_workflow(manager_browser):
    response = manager_browser.post("/admin/workflows/workflow/add/", {"definition": json.dumps(DEFINITION)})
    assert response.status_code == 302, response.content[:2000]
    workflow = Workflow.objects.get(name="Tag refunds")
    assert workflow.steps.get().type == "add_tag"
    assert WorkflowVersion.objects.filter(workflow=workflow, version=1).exists()


def test_list_shows_badges_counts_and_success_rate(manager_browser, make_workflow, conversation):
    make_workflow("message.created", TAG, name="Tagger")
    make_workflow("conversation.created", TAG, status="draft", name="Drafty")
    conversation_services.message_create(conversation=conversation, body="hello", sender_type="customer")
    drain()
    html = manager_browser.get(LIST_URL).content.decode()
    assert ">Active</span>" in html and ">Draft</span>" in html
    assert ">New message</span>" in html and ">New conversation</span>" in html
    assert '<td class="field-executions">1</td>' in html
    assert '<td class="field-success_rate">100.0%</td>' in html


def test_summary_bar_counts_workflows_active_and_executions(manager_browser, make_workflow, conversation):
    make_workflow("message.created", TAG, name="One")
    make_workflow("message.created", TAG, name="Two")
    make_workflow("message.created", TAG, status="inactive", name="Three")
    for body in ("first", "second"):
        conversation_services.message_create(conversation=conversation, body=body, sender_type="customer")
    drain()
    html = manager_browser.get(LIST_URL).content.decode()
    assert 'data-summary="workflows">3<' in html
    assert 'data-summary="active">2<' in html
    assert 'data-summary="executions">4<' in html


def test_toggle_flips_status_on_and_off(manager_browser, make_workflow):
    workflow = make_workflow("message.created", TAG, status="draft")
    url = f"/admin/workflows/workflow/{workflow.pk}/toggle/"
    assert manager_browser.get(url).status_code == 405
    assert manager_browser.post(url).status_code == 302
    workflow.refresh_from_db()
    assert (workflow.status, workflow.version) == ("active", 2)
    manager_browser.post(url)
    workflow.refresh_from_db()
    assert workflow.status == "inactive"
    assert f'formaction="{url}"' in manager_browser.get(LIST_URL).content.decode()


def test_activate_and_duplicate_actions(manager_browser, make_workflow):
    workflow = make_workflow("message.created", TAG, status="draft")
    manager_browser.post(LIST_URL, {"action": "activate", "_selected_action": [workflow.pk]})
    workflow.refresh_from_db()
    assert (workflow.status, workflow.version) == ("active", 2)
    manager_browser.post(LIST_URL, {"action": "duplicate", "_selected_action": [workflow.pk]})
    copy = Workflow.objects.get(name="Test workflow (copy)")
    assert copy.status == "draft" and copy.steps.count() == 1


def test_export_then_import_round_trip(manager_browser, make_workflow):
    first = make_workflow("message.created", TAG, trigger_config={"content_regex": "refund"}, name="First")
    second = make_workflow("conversation.created", [{"type": "wait", "config": {"hours": 1}}], name="Second")
    response = manager_browser.post(LIST_URL, {"action": "export_json", "_selected_action": [first.pk, second.pk]})
    assert response["Content-Disposition"].startswith("attachment")
    exported = json.loads(response.content)
    assert [body["name"] for body in exported] == ["First", "Second"]
    Workflow.objects.all().delete()

    imported = manager_browser.post("/admin/workflows/workflow/import/", {"text": response.content.decode()})
    assert imported.status_code == 302
    again = {w.name: services.workflow_definition(w) for w in Workflow.objects.all()}
    for body in exported:
        assert again[body["name"]] == {**body, "status": "draft"}  # imports are drafts unless asked


def test_import_keeps_status_when_asked_and_reports_validator_errors(manager_browser):
    single = json.dumps({**DEFINITION, "status": "active"})
    manager_browser.post("/admin/workflows/workflow/import/", {"text": single, "keep_status": "on"})
    assert Workflow.objects.get().status == "active"
    bad = {
        **DEFINITION,
        "steps": [
            {"type": "condition", "config": {"all": [{"field": "message.body", "op": "matches", "value": "(unclosed"}]}}
        ],
    }
    response = manager_browser.post("/admin/workflows/workflow/import/", {"text": json.dumps(bad)})
    assert response.status_code == 200
    assert "steps[0].config.all[0].value" in response.content.decode()
    assert Workflow.objects.count() == 1


def test_list_query_count_does_not_grow_with_workflows(manager_browser, make_workflow):
    def list_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_browser.get(LIST_URL).status_code == 200
        return len(captured)

    for index in range(5):
        make_workflow("message.created", TAG, name=f"W{index:02}")
    five = list_queries()
    for index in range(5, 30):
        make_workflow("message.created", TAG, name=f"W{index:02}")
    assert list_queries() == five


def _config_changelists() -> list[str]:
    """Changelist URLs of every model the workflows and SLA apps register in admin (integrations included)."""
    return [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
        if model._meta.app_label in ("workflows", "sla")
    ]


def test_agent_cannot_open_workflow_integration_or_sla_admin(agent):
    client = browser_for(agent)
    urls = _config_changelists() + ["/admin/workflows/workflow/import/", "/admin/workflows/workflow/add/"]
    assert "/admin/workflows/workflow/" in urls and any(url.startswith("/admin/sla/") for url in urls)
    for url in urls:
        assert client.get(url).status_code == 403, url
    index = client.get("/admin/").content.decode()
    assert "/admin/workflows/" not in index and "/admin/sla/" not in index
    assert "/admin/conversations/conversation/" in index


def test_manager_opens_workflow_integration_and_sla_admin(manager):
    client = browser_for(manager)
    for url in _config_changelists():
        assert client.get(url).status_code == 200, url
    index = client.get("/admin/").content.decode()
    assert "/admin/workflows/workflow/" in index and "/admin/sla/" in index

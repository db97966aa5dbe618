"""The versions page of a workflow (issue 14): every saved version, a readable diff with the current definition,
and "Restore this version", which saves the old definition as a new version through the service."""

import re

import pytest

from tests.support.forms import DEFINITION
from workflows import services
from workflows.models import Workflow, WorkflowVersion


@pytest.fixture
def edited(db) -> Workflow:
    """Version 1 tags "refund"; version 2 tags "refund" and "vip" and sets the priority; version 3 is active."""
    workflow = services.workflow_create(definition=DEFINITION)
    services.workflow_update(
        workflow=workflow,
        definition={
            **DEFINITION,
            "steps": [
                {"type": "add_tag", "config": {"tags": ["refund", "vip"]}},
                {"type": "set_priority", "config": {"priority": "high"}},
            ],
        },
    )
    return services.workflow_set_status(workflow=workflow, status="active")


def diff_lines(html: str) -> list[tuple[str, str]]:
    block = html[html.index('id="version-diff"') :]
    return re.findall(r'<div class="(same|added|removed)">(.*?)</div>', block)


def test_versions_page_lists_every_version_newest_first(manager_browser, edited):
    html = manager_browser.get(f"/admin/workflows/workflow/{edited.pk}/versions/").content.decode()
    assert re.findall(r'data-version="(\d+)"', html) == ["3", "2", "1"]
    assert '3 <span class="wf-muted">(current)</span>' in html
    assert f'href="/admin/workflows/workflow/{edited.pk}/versions/1/">Compare with current' in html
    editor = manager_browser.get(f"/admin/workflows/workflow/{edited.pk}/change/").content.decode()
    assert f'href="/admin/workflows/workflow/{edited.pk}/versions/">Versions</a>' in editor


def test_diff_reads_as_labelled_lines_not_json(manager_browser, edited):
    html = manager_browser.get(f"/admin/workflows/workflow/{edited.pk}/versions/1/").content.decode()
    lines = diff_lines(html)
    assert ("removed", "Status: Draft") in lines and ("added", "Status: Active") in lines
    assert ("removed", "  Tags: refund") in lines and ("added", "  Tags: refund, vip") in lines
    assert ("added", "Step 2: Set priority") in lines and ("added", "  Priority: High") in lines
    assert ("same", "Step 1: Add tag") in lines and ("same", "Trigger: New message") in lines
    assert "{&quot;" not in html[html.index('id="version-diff"') :]


def test_restore_saves_the_old_version_as_a_new_one_and_keeps_the_status(manager_browser, edited):
    response = manager_browser.post(f"/admin/workflows/workflow/{edited.pk}/versions/1/restore/", follow=True)
    assert "Version 1 restored as version 4 (order " in response.content.decode()
    edited.refresh_from_db()
    assert (edited.version, edited.status) == (4, "active")
    assert services.workflow_definition(edited)["steps"] == DEFINITION["steps"]
    assert list(WorkflowVersion.objects.filter(workflow=edited).values_list("version", flat=True)) == [4, 3, 2, 1]


def test_restoring_a_version_that_no_longer_validates_is_refused_with_its_reason(manager_browser, edited):
    version = WorkflowVersion.objects.get(workflow=edited, version=1)
    version.definition = {**version.definition, "steps": [{"type": "add_tag", "config": {}}]}
    version.save()
    response = manager_browser.post(f"/admin/workflows/workflow/{edited.pk}/versions/1/restore/", follow=True)
    assert response.status_code == 200
    assert "Version 1 cannot be restored: steps[0].config.tags" in response.content.decode()
    edited.refresh_from_db()
    assert edited.version == 3


def test_unknown_version_is_404_and_restore_needs_post(manager_browser, edited):
    assert manager_browser.get(f"/admin/workflows/workflow/{edited.pk}/versions/9/").status_code == 404
    assert manager_browser.get(f"/admin/workflows/workflow/{edited.pk}/versions/1/restore/").status_code == 405
    assert manager_browser.post(f"/admin/workflows/workflow/{edited.pk}/versions/9/restore/").status_code == 302
    assert Workflow.objects.get(pk=edited.pk).version == 3


def test_agents_cannot_see_or_restore_versions(agent_browser, edited):
    assert agent_browser.get(f"/admin/workflows/workflow/{edited.pk}/versions/").status_code == 403
    assert agent_browser.post(f"/admin/workflows/workflow/{edited.pk}/versions/1/restore/").status_code == 403


def test_diff_speaks_the_viewers_language(manager_browser, edited):
    html = manager_browser.get(
        f"/admin/workflows/workflow/{edited.pk}/versions/1/", HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Schritt 1:" in html and "Auslöser:" in html and "Reihenfolge:" in html
    assert "Step 1:" not in html and "Trigger:" not in html

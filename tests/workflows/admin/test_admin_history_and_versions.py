"""Admin defects found walking it as a manager (issue 25): a workflow's History page was a 500 when the workflow was
created in the admin (KeyError: 'name'); the version compare hid `order` and `stop_processing` while Restore
reverted them silently."""

import importlib
import json

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType

from tests.support.forms import ADD_URL, DEFINITION, VIP_FORM
from workflows import services
from workflows.models import Workflow

pytestmark = pytest.mark.usefixtures("crm_integration")  # the integration the VIP form names


def test_the_history_of_a_workflow_created_in_the_admin_opens(browser):
    assert browser.post(ADD_URL, VIP_FORM).status_code == 302
    workflow = Workflow.objects.get()
    browser.post(f"/admin/workflows/workflow/{workflow.pk}/change/", {**VIP_FORM, "description": "Edited"})
    response = browser.get(f"/admin/workflows/workflow/{workflow.pk}/history/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Added." in html and "definition (version 1)" in html


def test_history_entries_written_before_the_fix_are_rewritten_and_open(browser, manager):
    workflow = services.workflow_create(definition=DEFINITION)
    LogEntry.objects.create(
        user=manager,
        content_type=ContentType.objects.get_for_model(Workflow),
        object_id=str(workflow.pk),
        object_repr=workflow.name,
        action_flag=ADDITION,
        change_message=json.dumps([{"added": {"fields": ["definition (version 1)"]}}]),
    )
    importlib.import_module("workflows.migrations.0012_admin_history").rewrite(apps, None)
    entry = LogEntry.objects.get()
    assert json.loads(entry.change_message) == [{"added": {}}, {"changed": {"fields": ["definition (version 1)"]}}]
    response = browser.get(f"/admin/workflows/workflow/{workflow.pk}/history/")
    assert response.status_code == 200 and "definition (version 1)" in response.content.decode()


def test_the_compare_shows_order_and_stop_processing_and_restore_brings_them_back(browser):
    workflow = services.workflow_create(definition={**DEFINITION, "order": 5, "stop_processing": True})
    workflow = services.workflow_update(
        workflow=workflow, definition={**DEFINITION, "order": 9, "stop_processing": False}
    )
    html = browser.get(f"/admin/workflows/workflow/{workflow.pk}/versions/1/").content.decode()
    block = html[html.index('id="version-diff"') :]
    assert '<div class="removed">Order: 5</div>' in block and '<div class="added">Order: 9</div>' in block
    assert '<div class="removed">Stop processing the workflows after it: yes</div>' in block
    assert '<div class="added">Stop processing the workflows after it: no</div>' in block
    response = browser.post(f"/admin/workflows/workflow/{workflow.pk}/versions/1/restore/", follow=True)
    assert (
        "Version 1 restored as version 3 (order 5, stop processing the workflows after it: yes)."
        in response.content.decode()
    )
    workflow.refresh_from_db()
    assert (workflow.order, workflow.stop_processing) == (5, True)


def test_restoring_a_version_that_recorded_neither_keeps_the_current_ones(db):
    workflow = services.workflow_create(definition=DEFINITION)
    workflow = services.workflow_update(
        workflow=workflow, definition={**DEFINITION, "order": 7, "stop_processing": True}
    )
    first = workflow.versions.get(version=1)
    first.definition = {
        key: value for key, value in first.definition.items() if key not in ("order", "stop_processing")
    }
    first.save(update_fields=["definition"])
    restored = services.workflow_restore_version(workflow=workflow, version=1)
    assert (restored.order, restored.stop_processing) == (7, True)

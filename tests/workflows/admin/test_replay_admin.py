"""The editor's "Try on history" pages (docs/managers.md replay) through the admin: the button, the period form and its
errors, and the results page that the browser script fills in (tests/browser/test_replay_browser.py drives it)."""

import datetime as dt

from conversations import clock
from conversations import services as conversation_services
from tests.support.people import browser_for
from workflows import services
from workflows.models import WorkflowReplay

DEFINITION = {
    "name": "Refunds",
    "status": "active",
    "trigger": {"type": "message.created", "config": {"content_contains": ["refund"]}},
    "steps": [{"type": "add_tag", "config": {"tags": ["refund"]}}],
}


def test_the_editor_has_a_try_on_history_button(manager):
    workflow = services.workflow_create(definition=DEFINITION)
    page = browser_for(manager).get(f"/admin/workflows/workflow/{workflow.pk}/change/")
    assert f'href="/admin/workflows/workflow/{workflow.pk}/replay/"' in page.content.decode()
    assert "Try on history" in page.content.decode()


def test_the_form_refuses_a_period_that_ends_before_it_starts(manager):
    workflow = services.workflow_create(definition=DEFINITION)
    response = browser_for(manager).post(
        f"/admin/workflows/workflow/{workflow.pk}/replay/", {"since": "2026-03-02", "until": "2026-03-01"}
    )
    assert response.status_code == 200
    assert "The end of the period must be on or after its start." in response.content.decode()
    assert not WorkflowReplay.objects.exists()


def test_the_form_starts_a_replay_and_opens_its_results(manager, conversation, django_capture_on_commit_callbacks):
    workflow = services.workflow_create(definition=DEFINITION)
    conversation_services.message_create(conversation=conversation, body="A refund please", sender_type="customer")
    today = clock.now().date()
    client = browser_for(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/workflows/workflow/{workflow.pk}/replay/",
            {"since": (today - dt.timedelta(days=7)).isoformat(), "until": today.isoformat()},
        )
    replay = WorkflowReplay.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/workflows/workflow/replays/{replay.pk}/"
    assert (replay.status, replay.would_start) == ("done", 1)
    page = client.get(response["Location"]).content.decode()
    assert f'data-url="/api/workflow-replays/{replay.pk}/"' in page
    assert 'role="progressbar"' in page


def test_agents_cannot_open_the_replay_pages(agent):
    workflow = services.workflow_create(definition=DEFINITION)
    assert browser_for(agent).get(f"/admin/workflows/workflow/{workflow.pk}/replay/").status_code == 403

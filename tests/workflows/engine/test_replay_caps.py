"""Replays capped (issue 25, item 3): at most HELPDESK_REPLAY_MAX_PER_WORKFLOW running replays of one workflow and
HELPDESK_REPLAY_MAX_RUNNING in all; a start past either is a 429 with Retry-After and a clear reason (nothing is
queued), and the admin form shows the same reason. Once the running one is done, a new one starts."""

import datetime as dt

from django.test import Client

from conversations import clock
from tests.support.replay import TAG, URL, create_workflow, period
from workflows.choices import ReplayStatus
from workflows.models import WorkflowReplay


def start(client, workflow):
    """Start a replay without running its chunks (they are enqueued on commit, which these tests do not run)."""
    return client.post(f"{URL}{workflow}/replay/", period(), format="json")


def test_a_second_replay_of_the_same_workflow_is_a_429_until_the_first_is_done(manager_client, conversation):
    workflow = create_workflow(manager_client, [TAG])
    assert start(manager_client, workflow).status_code == 202
    refused = start(manager_client, workflow)
    assert refused.status_code == 429
    assert "already has 1 replay(s) running" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert WorkflowReplay.objects.count() == 1
    WorkflowReplay.objects.update(status=ReplayStatus.DONE)
    assert start(manager_client, workflow).status_code == 202


def test_the_replays_running_in_all_are_capped(manager_client, conversation, settings):
    settings.HELPDESK_REPLAY_MAX_RUNNING = 2
    workflows = [create_workflow(manager_client, [TAG]) for _ in range(3)]
    assert [start(manager_client, w).status_code for w in workflows] == [202, 202, 429]
    refused = start(manager_client, workflows[2])
    assert "2 replays are running" in refused.json()["detail"]


def test_the_admin_form_says_why(manager, manager_client, conversation):
    workflow = create_workflow(manager_client, [TAG])
    assert start(manager_client, workflow).status_code == 202
    browser = Client()
    browser.force_login(manager)
    response = browser.post(
        f"/admin/workflows/workflow/{workflow}/replay/",
        {"since": str(clock.now().date() - dt.timedelta(days=1)), "until": str(clock.now().date())},
    )
    assert response.status_code == 200
    assert "already has 1 replay(s) running" in response.content.decode()
    assert WorkflowReplay.objects.count() == 1

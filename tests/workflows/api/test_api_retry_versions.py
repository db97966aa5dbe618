"""Retry from the failed step on the version the run ran (default) or on the workflow's current version
(`POST /api/workflow-runs/{id}/retry/` `{"version": "original" | "current"}`); the run says which it used."""

import pytest

from conversations import services as conversation_services
from tests.support.runs import drain

URL = "/api/workflows/"
RUNS = "/api/workflow-runs/"
PRIORITY = {"type": "set_priority", "config": {"priority": "high"}}
ROUTE = {"type": "route", "config": {"team": "Retention", "strategy": "specific"}}
FIXED = {"type": "add_tag", "config": {"tags": ["fixed"]}}


@pytest.fixture
def failed_run(manager_client, conversation, django_capture_on_commit_callbacks) -> dict:
    """A manual run of version 1 that failed at its second step (its team was deleted), then version 2 saved with
    that step replaced by a tag."""
    retention = conversation_services.team_create(name="Retention")
    workflow = manager_client.post(
        URL,
        {
            "name": "Retry me",
            "status": "active",
            "steps": [PRIORITY, ROUTE],
            "trigger": {"type": "manual", "config": {}},
        },
        format="json",
    ).json()
    retention.delete()
    with django_capture_on_commit_callbacks(execute=True):
        run = manager_client.post(
            f"{URL}{workflow['id']}/run/", {"conversation": conversation.pk}, format="json"
        ).json()
    drain()
    assert manager_client.get(f"{RUNS}{run['id']}/").json()["status"] == "failed"
    changed = manager_client.patch(f"{URL}{workflow['id']}/", {"steps": [PRIORITY, FIXED]}, format="json")
    assert changed.json()["version"] == 2, changed.json()
    return run


@pytest.fixture
def retry(manager_client, django_capture_on_commit_callbacks):
    """POST the retry and run the queued run as the worker woken on commit would."""

    def post(run: dict, body: dict | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return manager_client.post(f"{RUNS}{run['id']}/retry/", body or {}, format="json")

    return post


def test_retry_on_the_current_version_runs_the_fixed_step(manager_client, conversation, failed_run, retry):
    response = retry(failed_run, {"version": "current"})
    assert response.status_code == 200, response.json()
    assert (response.json()["version"], response.json()["first_version"], response.json()["retried_on"]) == (
        2,
        1,
        "current",
    )
    done = manager_client.get(f"{RUNS}{failed_run['id']}/").json()
    assert done["status"] == "succeeded", done["error"]
    assert [(s["type"], s["status"]) for s in done["steps"]] == [
        ("set_priority", "succeeded"),
        ("add_tag", "succeeded"),
    ]
    conversation.refresh_from_db()
    assert list(conversation.tags.values_list("name", flat=True)) == ["fixed"]


def test_retry_by_default_stays_on_the_version_it_ran(manager_client, failed_run, retry):
    response = retry(failed_run)
    assert (response.json()["version"], response.json()["retried_on"]) == (1, "original")
    again = manager_client.get(f"{RUNS}{failed_run['id']}/").json()
    assert again["status"] == "failed" and 'No team "Retention"' in again["error"]
    assert [s["type"] for s in again["steps"]] == ["set_priority", "route"]


def test_retry_on_a_current_version_too_short_is_a_400(manager_client, failed_run, retry):
    manager_client.patch(f"{URL}{failed_run['workflow']}/", {"steps": [PRIORITY]}, format="json")
    response = retry(failed_run, {"version": "current"})
    assert response.status_code == 400
    assert "Retry on the version it ran" in response.json()["version"][0]


def test_an_unknown_retry_version_is_a_400(failed_run, retry):
    response = retry(failed_run, {"version": "latest"})
    assert response.status_code == 400 and "version" in response.json()

"""`GET /api/analytics/workflows/?since=&until=` (docs/api.md): totals, rates, average duration, daily trend, most
triggered, over runs made through the API."""

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from conversations import services as conversation_services
from workflows.engine.sweep import sweep_once
from workflows.models import WorkflowRun

URL = "/api/analytics/workflows/"


def create(client, name, steps, status="active") -> int:
    response = client.post(
        "/api/workflows/",
        {"name": name, "status": status, "steps": steps, "trigger": {"type": "manual", "config": {}}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


@pytest.fixture
def history(manager_client, conversation):
    """Good ran 3 times (one of them two days ago), Bad failed once, Idle is a draft; every run took 2 s."""
    good = create(manager_client, "Good", [{"type": "add_tag", "config": {"tags": ["ok"]}}])
    ghosts = conversation_services.team_create(name="Ghosts")
    bad = create(manager_client, "Bad", [{"type": "route", "config": {"team": "Ghosts", "strategy": "specific"}}])
    ghosts.delete()  # deleted after the workflow was saved: its run fails
    create(manager_client, "Idle", [], status="draft")
    for workflow in (good, good, good, bad):
        assert (
            manager_client.post(
                f"/api/workflows/{workflow}/run/", {"conversation": conversation.pk}, format="json"
            ).status_code
            == 201
        )
    sweep_once()
    WorkflowRun.objects.update(finished_at=F("started_at") + dt.timedelta(seconds=2))
    old = WorkflowRun.objects.filter(workflow_id=good).order_by("id").first()
    WorkflowRun.objects.filter(pk=old.pk).update(created_at=F("created_at") - dt.timedelta(days=2))
    return {"good": good, "bad": bad, "today": timezone.localdate()}


def test_report_over_a_window(manager_client, history):
    today = history["today"]
    response = manager_client.get(
        URL, {"since": (today - dt.timedelta(days=3)).isoformat(), "until": today.isoformat()}
    )
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["totals"] == {
        "workflows": 3,
        "active": 2,
        "executions": 4,
        "succeeded": 3,
        "failed": 1,
        "didnt_match": 0,
        "cancelled": 0,
    }
    assert (report["success_rate"], report["failure_rate"]) == (0.75, 0.25)
    assert report["average_duration_seconds"] == 2.0
    assert report["most_triggered"] == [
        {"workflow": history["good"], "name": "Good", "executions": 3},
        {"workflow": history["bad"], "name": "Bad", "executions": 1},
    ]
    daily = {row["date"]: row for row in report["daily"]}
    assert len(report["daily"]) == 4
    assert daily[(today - dt.timedelta(days=2)).isoformat()] == {
        "date": (today - dt.timedelta(days=2)).isoformat(),
        "executions": 1,
        "succeeded": 1,
        "failed": 0,
    }
    assert daily[today.isoformat()] == {"date": today.isoformat(), "executions": 3, "succeeded": 2, "failed": 1}
    assert daily[(today - dt.timedelta(days=3)).isoformat()]["executions"] == 0


def test_window_excludes_older_runs(manager_client, history):
    report = manager_client.get(URL, {"since": history["today"].isoformat()}).json()
    assert report["totals"]["executions"] == 3
    assert report["success_rate"] == pytest.approx(0.6667)


def test_default_window_is_the_last_30_days(manager_client, history):
    report = manager_client.get(URL).json()
    assert report["until"] == history["today"].isoformat()
    assert report["since"] == (history["today"] - dt.timedelta(days=30)).isoformat()
    assert report["totals"]["executions"] == 4


def test_empty_window_has_no_rates(manager_client, db):
    report = manager_client.get(URL, {"since": "2020-01-01", "until": "2020-01-02"}).json()
    assert report["totals"]["executions"] == 0
    assert (report["success_rate"], report["failure_rate"], report["average_duration_seconds"]) == (None, None, None)
    assert report["most_triggered"] == []


@pytest.mark.parametrize(
    "params,key",
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "since"),
        ({"until": "9999-12-31"}, "until"),
        ({"since": "0001-01-01"}, "since"),
        ({"since": "2000-01-01", "until": "2026-01-01"}, "since"),
    ],
)
def test_bad_dates_are_400(manager_client, params, key):
    response = manager_client.get(URL, params)
    assert response.status_code == 400
    assert key in response.json()

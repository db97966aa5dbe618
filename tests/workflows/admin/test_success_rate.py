"""One definition of success everywhere (docs/managers.md, issue 14): succeeded / (succeeded + failed). Runs stopped by
a condition are "didn't match", cancelled runs are apart, waiting runs are not decided yet. The same set of runs
gives the same figure on the workflow list row, the summary bar, the analytics page and the API."""

import pytest

from conversations.models import Team

URL = "/api/workflows/"
RUNS = "/api/workflow-runs/"
TAG = [{"type": "add_tag", "config": {"tags": ["ok"]}}]
NO_MATCH = [
    {
        "type": "condition",
        "on_false": "stop",
        "config": {"all": [{"field": "conversation.channel", "op": "eq", "value": "email"}]},
    },
    {"type": "add_tag", "config": {"tags": ["never"]}},
]
WAIT = [{"type": "wait", "config": {"minutes": 30}}, {"type": "add_tag", "config": {"tags": ["later"]}}]


@pytest.fixture
def mixed(manager_client, conversation, django_capture_on_commit_callbacks):
    """One workflow whose versions made 2 succeeded, 1 failed, 1 stopped, 1 cancelled and 1 waiting run."""
    workflow = manager_client.post(
        URL,
        {"name": "Mixed", "status": "active", "steps": TAG, "trigger": {"type": "manual", "config": {}}},
        format="json",
    ).json()["id"]

    def run(times: int = 1) -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            return [
                manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json").json()[
                    "id"
                ]
                for _ in range(times)
            ]

    def use(steps: list) -> None:
        assert manager_client.patch(f"{URL}{workflow}/", {"steps": steps}, format="json").status_code == 200

    run(2)
    Team.objects.create(name="Ghosts")
    use([{"type": "route", "config": {"team": "Ghosts", "strategy": "specific"}}])
    Team.objects.filter(name="Ghosts").delete()  # deleted after the save: the run fails
    run()
    use(NO_MATCH)
    run()
    use(WAIT)
    cancelled, _waiting = run(2)
    assert manager_client.post(f"{RUNS}{cancelled}/cancel/").status_code == 200
    return workflow


def test_runs_have_every_outcome(manager_client, mixed):
    statuses = sorted(run["status"] for run in manager_client.get(RUNS, {"workflow": mixed}).json()["results"])
    assert statuses == ["cancelled", "failed", "stopped", "succeeded", "succeeded", "waiting"]


def test_api_workflow_stats_use_the_one_definition(manager_client, mixed):
    stats = manager_client.get(f"{URL}{mixed}/").json()["stats"]
    assert {key: stats[key] for key in ("executions", "succeeded", "failed", "didnt_match", "cancelled")} == {
        "executions": 6,
        "succeeded": 2,
        "failed": 1,
        "didnt_match": 1,
        "cancelled": 1,
    }
    assert (stats["success_rate"], stats["failure_rate"]) == (0.6667, 0.3333)
    listed = manager_client.get(URL).json()["results"]
    assert [w["stats"]["success_rate"] for w in listed if w["id"] == mixed] == [0.6667]


def test_api_analytics_uses_the_one_definition(manager_client, mixed):
    report = manager_client.get("/api/analytics/workflows/").json()
    assert report["totals"] == {
        "workflows": 1,
        "active": 1,
        "executions": 6,
        "succeeded": 2,
        "failed": 1,
        "didnt_match": 1,
        "cancelled": 1,
    }
    assert (report["success_rate"], report["failure_rate"]) == (0.6667, 0.3333)


def test_list_row_and_summary_bar_show_the_same_figure(manager_browser, mixed):
    html = manager_browser.get("/admin/workflows/workflow/").content.decode()
    assert (
        '<td class="field-success_rate">66.7% <span class="wf-muted wf-nowrap" '
        'title="Runs stopped by a condition">(1 didn\'t match)</span></td>'
    ) in html
    assert 'data-summary="success_rate">66.7%<' in html
    assert 'data-summary="didnt_match">1<' in html
    assert 'data-summary="failed">1<' in html


def test_analytics_page_shows_the_same_figure(manager_browser, mixed):
    html = manager_browser.get("/admin/workflows/workflow/analytics/").content.decode()
    assert '<div class="wf-stat" id="stat-success"><b>66.7%</b>' in html
    assert '<div class="wf-stat" id="stat-failure"><b>33.3%</b>' in html
    assert 'id="stat-didnt-match" title="Runs stopped by a condition: not failures"><b>1</b>' in html
    assert '<div class="wf-stat" id="stat-cancelled"><b>1</b>' in html

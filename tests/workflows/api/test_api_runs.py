"""Manual runs and the run history (`workflow-runs/`, docs/api.md): shape, filters, retry, cancel, query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import clock
from conversations import services as conversation_services
from tests.support.runs import drain
from workflows.engine.sweep import sweep_once
from workflows.models import WorkflowRun

URL = "/api/workflows/"
RUNS = "/api/workflow-runs/"


def create(client, steps, trigger_type="manual", status="active", name="Manual") -> int:
    response = client.post(
        URL,
        {"name": name, "status": status, "steps": steps, "trigger": {"type": trigger_type, "config": {}}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


TAG_AND_PRIORITY = [
    {"type": "add_tag", "config": {"tags": ["{{ event.inputs.tag or 'manual' }}"]}},
    {"type": "set_priority", "config": {"priority": "high"}},
]


def test_manual_run_end_to_end(manager_client, conversation, django_capture_on_commit_callbacks):
    workflow = create(manager_client, TAG_AND_PRIORITY)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            f"{URL}{workflow}/run/", {"conversation": conversation.pk, "inputs": {"tag": "callback"}}, format="json"
        )
    assert response.status_code == 201, response.json()
    run_id = response.json()["id"]
    run = manager_client.get(f"{RUNS}{run_id}/").json()
    assert run["status"] == "succeeded", run["error"]
    assert (run["workflow"], run["version"], run["conversation"]) == (workflow, 1, conversation.pk)
    assert [(s["position"], s["type"], s["status"], s["attempts"]) for s in run["steps"]] == [
        (0, "add_tag", "succeeded", 1),
        (1, "set_priority", "succeeded", 1),
    ]
    assert run["steps"][0]["input"] == {"tags": ["callback"]}
    assert all(isinstance(s["duration_ms"], int) for s in run["steps"])
    assert run["started_at"] and run["finished_at"] and run["event"]
    conversation.refresh_from_db()
    assert conversation.priority == "high"
    assert list(conversation.tags.values_list("name", flat=True)) == ["callback"]


def test_manual_run_of_a_draft_is_400(manager_client, conversation):
    workflow = create(manager_client, TAG_AND_PRIORITY, status="draft")
    response = manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json")
    assert response.status_code == 400
    assert "workflow" in response.json()
    assert not WorkflowRun.objects.exists()


def test_manual_run_of_another_trigger_is_400(manager_client, conversation):
    workflow = create(manager_client, TAG_AND_PRIORITY, trigger_type="conversation.created")
    response = manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"conversation": 999999},
        {"conversation": "x"},
        {"conversation": 1, "inputs": "no"},
        {"conversation": 1, "extra": 1},
    ],
)
def test_manual_run_bad_bodies_are_400(manager_client, conversation, payload):
    workflow = create(manager_client, TAG_AND_PRIORITY)
    assert manager_client.post(f"{URL}{workflow}/run/", payload, format="json").status_code == 400


def test_run_records_the_version_it_ran(manager_client, conversation):
    workflow = create(manager_client, TAG_AND_PRIORITY)
    manager_client.patch(f"{URL}{workflow}/", {"description": "v2"}, format="json")
    run = manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json").json()
    assert run["version"] == 2


# The run list ----------------------------------------------------------------------------------------------


@pytest.fixture
def two_conversations_with_runs(manager_client, contact, conversation):
    other = conversation_services.conversation_open(contact=contact, channel="email", subject="Second")
    good = create(manager_client, [{"type": "add_tag", "config": {"tags": ["x"]}}], name="Good")
    ghosts = conversation_services.team_create(name="Ghosts")
    bad = create(manager_client, [{"type": "route", "config": {"team": "Ghosts", "strategy": "specific"}}], name="Bad")
    ghosts.delete()  # deleted after the workflow was saved: its runs fail
    for workflow in (good, bad):
        for target in (conversation, other):
            manager_client.post(f"{URL}{workflow}/run/", {"conversation": target.pk}, format="json")
    sweep_once()
    return {"good": good, "bad": bad, "conversation": conversation, "other": other}


def result_ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {run["id"] for run in response.json()["results"]}


def test_runs_filter_by_workflow_status_and_conversation(manager_client, two_conversations_with_runs):
    setup = two_conversations_with_runs
    runs = WorkflowRun.objects
    assert result_ids(manager_client.get(RUNS)) == set(runs.values_list("id", flat=True))
    assert result_ids(manager_client.get(RUNS, {"workflow": setup["good"]})) == set(
        runs.filter(workflow_id=setup["good"]).values_list("id", flat=True)
    )
    assert result_ids(manager_client.get(RUNS, {"status": "failed"})) == set(
        runs.filter(workflow_id=setup["bad"]).values_list("id", flat=True)
    )
    both = manager_client.get(RUNS, {"workflow": setup["good"], "conversation": setup["other"].pk})
    assert result_ids(both) == set(
        runs.filter(workflow_id=setup["good"], conversation=setup["other"]).values_list("id", flat=True)
    )
    assert len(result_ids(both)) == 1


def test_runs_filter_by_start_time(manager_client, two_conversations_with_runs):
    WorkflowRun.objects.filter(workflow_id=two_conversations_with_runs["bad"]).update(
        started_at=clock.now() - dt.timedelta(days=3)
    )
    cutoff = (clock.now() - dt.timedelta(days=1)).isoformat()
    recent = result_ids(manager_client.get(RUNS, {"started_after": cutoff}))
    older = result_ids(manager_client.get(RUNS, {"started_before": cutoff}))
    assert recent == set(
        WorkflowRun.objects.filter(workflow_id=two_conversations_with_runs["good"]).values_list("id", flat=True)
    )
    assert older == set(
        WorkflowRun.objects.filter(workflow_id=two_conversations_with_runs["bad"]).values_list("id", flat=True)
    )


@pytest.mark.parametrize(
    "params",
    [
        {"status": "asleep"},
        {"workflow": "abc"},
        {"workflow": 999999},
        {"conversation": "x"},
        {"started_after": "yesterday"},
        {"workflow": "99999999999999999999999"},
    ],
)
def test_bad_run_filters_are_400(manager_client, params):
    assert manager_client.get(RUNS, params).status_code == 400


def test_run_list_query_count_does_not_grow_with_runs(manager_client, conversation):
    workflow = create(manager_client, TAG_AND_PRIORITY)

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(RUNS).status_code == 200
        return len(queries)

    manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json")
    sweep_once()
    one = list_queries()
    for _ in range(5):
        manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json")
    sweep_once()
    assert WorkflowRun.objects.count() == 6
    assert list_queries() == one


def test_workflow_list_query_count_does_not_grow_with_workflows(manager_client):
    def list_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(URL).status_code == 200
        return len(queries)

    create(manager_client, TAG_AND_PRIORITY, name="one")
    one = list_queries()
    for index in range(5):
        create(manager_client, TAG_AND_PRIORITY, name=f"more {index}")
    assert list_queries() == one


# Retry and cancel ------------------------------------------------------------------------------------------


def test_retry_resumes_a_failed_run_from_its_failed_step(
    manager_client, conversation, django_capture_on_commit_callbacks
):
    retention = conversation_services.team_create(name="Retention")
    workflow = create(
        manager_client,
        [
            {"type": "set_priority", "config": {"priority": "high"}},
            {"type": "route", "config": {"team": "Retention", "strategy": "specific"}},
            {"type": "add_tag", "config": {"tags": ["routed"]}},
        ],
    )
    retention.delete()  # deleted after the workflow was saved: the route step fails
    with django_capture_on_commit_callbacks(execute=True):
        run_id = manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json").json()[
            "id"
        ]
    failed = manager_client.get(f"{RUNS}{run_id}/").json()
    assert failed["status"] == "failed"
    assert "Retention" in failed["error"]
    assert [s["status"] for s in failed["steps"]] == ["succeeded", "failed"]

    team = conversation_services.team_create(name="Retention")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(f"{RUNS}{run_id}/retry/")
    assert response.status_code == 200
    drain()
    retried = manager_client.get(f"{RUNS}{run_id}/").json()
    assert retried["status"] == "succeeded", retried["error"]
    # The retried step starts a fresh count of attempts (a manual retry gets the full retry budget again).
    assert [(s["status"], s["attempts"]) for s in retried["steps"]] == [
        ("succeeded", 1),
        ("succeeded", 1),
        ("succeeded", 1),
    ]
    conversation.refresh_from_db()
    assert conversation.team == team


def test_retry_of_a_run_that_did_not_fail_is_400(manager_client, conversation, django_capture_on_commit_callbacks):
    workflow = create(manager_client, TAG_AND_PRIORITY)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json").json()[
            "id"
        ]
    response = manager_client.post(f"{RUNS}{run_id}/retry/")
    assert response.status_code == 400
    assert "status" in response.json()


def test_cancel_a_waiting_run_and_it_never_resumes(manager_client, conversation, django_capture_on_commit_callbacks):
    workflow = create(
        manager_client,
        [{"type": "wait", "config": {"minutes": 30}}, {"type": "set_priority", "config": {"priority": "urgent"}}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_id = manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json").json()[
            "id"
        ]
    assert manager_client.get(f"{RUNS}{run_id}/").json()["status"] == "waiting"
    response = manager_client.post(f"{RUNS}{run_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    with clock.travel(dt.timedelta(hours=1)):
        sweep_once()
    assert manager_client.get(f"{RUNS}{run_id}/").json()["status"] == "cancelled"
    conversation.refresh_from_db()
    assert conversation.priority == "normal"
    assert manager_client.post(f"{RUNS}{run_id}/cancel/").status_code == 400


def test_agents_cannot_retry_or_cancel(agent_client, manager_client, conversation):
    workflow = create(manager_client, TAG_AND_PRIORITY)
    run_id = manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json").json()["id"]
    assert agent_client.post(f"{RUNS}{run_id}/retry/").status_code == 403
    assert agent_client.post(f"{RUNS}{run_id}/cancel/").status_code == 403
    assert agent_client.get(f"{RUNS}{run_id}/").status_code == 403


def test_workflow_stats_count_its_runs(manager_client, conversation, django_capture_on_commit_callbacks):
    workflow = create(manager_client, TAG_AND_PRIORITY)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(f"{URL}{workflow}/run/", {"conversation": conversation.pk}, format="json")
    stats = manager_client.get(f"{URL}{workflow}/").json()["stats"]
    assert (stats["executions"], stats["succeeded"], stats["success_rate"], stats["last_run_status"]) == (
        1,
        1,
        1.0,
        "succeeded",
    )

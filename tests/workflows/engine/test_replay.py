"""Replay ("try on history", docs/managers.md): `POST /api/workflows/{id}/replay/` then `GET
/api/workflow-replays/{id}/`.

The chunk tasks run in the in-process queue (test settings); `django_capture_on_commit_callbacks(execute=True)`
runs what the request and each chunk enqueue after commit, the way a worker would pick it up.
"""

import datetime as dt

import pytest
from django.apps import apps
from django.core import mail

from conversations import clock
from conversations import services as conversation_services
from tests.support.replay import TAG, URL, create_workflow, period, replay, say
from workflows.engine.replay import STALL
from workflows.engine.sweep import sweep_once
from workflows.integrations import services as integrations
from workflows.models import WorkflowReplay


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_a_replay_that_matches_counts_and_dry_runs_the_matching_events(
    manager_client, conversation, django_capture_on_commit_callbacks
):
    workflow = create_workflow(manager_client, [TAG])
    say(conversation, "I want a refund please", "Where is my parcel?")
    result = replay(manager_client, django_capture_on_commit_callbacks, workflow)
    assert result["status"] == "done"
    assert result["progress"] == {"done": 2, "total": 2}
    assert (result["matched"], result["would_start"]) == (1, 1)
    assert result["by_outcome"]["would_succeed"] == 1 and result["by_outcome"]["filtered_out"] == 1
    assert result["steps"] == {"add_tag": {"would_run": 1, "would_skip": 0, "would_fail": 0}}
    started = next(sample for sample in result["samples"] if sample["outcome"] == "would_succeed")
    assert started["conversation"] == conversation.pk
    assert started["event"]["type"] == "message.created"
    assert [(step["type"], step["status"]) for step in started["steps"]] == [("add_tag", "would_run")]
    assert list(conversation.tags.all()) == []


def test_a_replay_that_matches_nothing_says_why(manager_client, conversation, django_capture_on_commit_callbacks):
    workflow = create_workflow(
        manager_client, [TAG], trigger={"type": "message.created", "config": {"content_contains": ["cancel"]}}
    )
    say(conversation, "I want a refund please", "Where is my parcel?")
    result = replay(manager_client, django_capture_on_commit_callbacks, workflow)
    assert result["status"] == "done"
    assert (result["matched"], result["would_start"]) == (0, 0)
    assert result["by_outcome"]["filtered_out"] == 2
    assert result["steps"] == {"add_tag": {"would_run": 0, "would_skip": 0, "would_fail": 0}}
    assert {sample["outcome"] for sample in result["samples"]} == {"filtered_out"}
    assert [(sample["message"], sample["reason"], sample["steps"]) for sample in result["samples"]] == [
        (body, "The trigger filter content contains (cancel) does not match this event.", [])
        for body in ("I want a refund please", "Where is my parcel?")
    ]


def test_a_draft_definition_is_replayed_instead_of_the_saved_one(
    manager_client, conversation, django_capture_on_commit_callbacks
):
    workflow = create_workflow(manager_client, [TAG])
    say(conversation, "Where is my parcel?")
    draft = {
        "name": "Parcels",
        "trigger": {"type": "message.created", "config": {"content_contains": ["parcel"]}},
        "steps": [{"type": "set_priority", "config": {"priority": "high"}}],
    }
    result = replay(manager_client, django_capture_on_commit_callbacks, workflow, definition=draft)
    assert (result["matched"], result["would_start"]) == (1, 1)
    assert result["steps"] == {"set_priority": {"would_run": 1, "would_skip": 0, "would_fail": 0}}


def test_many_chunks_add_up_to_the_same_figures_and_limit_caps_them(
    manager_client, conversation, settings, django_capture_on_commit_callbacks
):
    settings.HELPDESK_REPLAY_CHUNK_EVENTS = 2
    workflow = create_workflow(manager_client, [TAG])
    say(conversation, *[f"refund number {n}" for n in range(5)], "no match here")
    result = replay(manager_client, django_capture_on_commit_callbacks, workflow)
    assert result["progress"] == {"done": 6, "total": 6}
    assert (result["matched"], result["by_outcome"]["filtered_out"]) == (5, 1)
    assert WorkflowReplay.objects.get().chunks == 4  # 2 + 2 + 2 events, then an empty read that finishes
    limited = replay(manager_client, django_capture_on_commit_callbacks, workflow, limit=3)
    assert limited["progress"] == {"done": 3, "total": 3}
    assert limited["matched"] == 3


def test_the_conversation_is_seen_as_it_was_at_the_event(
    manager_client, conversation, django_capture_on_commit_callbacks
):
    """Today the conversation is open; at the recorded status change it had just become pending."""
    pending_check = {
        "type": "condition",
        "config": {"all": [{"field": "conversation.status", "op": "eq", "value": "pending"}]},
        "on_false": "stop",
    }
    workflow = create_workflow(
        manager_client,
        [pending_check, TAG],
        trigger={"type": "conversation.status_changed", "config": {"to": ["pending"]}},
    )
    conversation_services.conversation_change_status(conversation=conversation, status="pending")
    conversation_services.conversation_change_status(conversation=conversation, status="open")
    result = replay(manager_client, django_capture_on_commit_callbacks, workflow)
    assert (result["matched"], result["by_outcome"]["would_succeed"]) == (1, 1)
    assert result["steps"]["add_tag"]["would_run"] == 1


@pytest.fixture
def remote(httpserver, settings):
    """Every outbound destination is the local receiver, allowlisted, so a step that did send would reach it."""
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    settings.HELPDESK_SLACK_BASE_URL = httpserver.url_for("/slack/")
    integrations.integration_save(name="Slack", auth={"type": "bearer", "token": "xoxb-1-2-secret"})
    integrations.integration_save(
        name="SMS",
        base_url=httpserver.url_for("/sms"),
        auth={"type": "basic", "username": "AKID", "password": "sms-secret"},
    )
    httpserver.expect_request("/").respond_with_json({"ok": True})
    return httpserver


def test_nothing_is_changed_or_sent_whatever_the_steps(
    manager_client, conversation, remote, django_capture_on_commit_callbacks
):
    steps = [
        {
            "type": "http_request",
            "config": {
                "url": remote.url_for("/crm"),
                "method": "POST",
                "values": [{"key": "name", "value": "{{ contact.name }}"}],
            },
        },
        {"type": "webhook", "config": {"url": remote.url_for("/hook")}},
        {"type": "slack", "config": {"integration": "Slack", "channel": "#support", "text": "{{ message.body }}"}},
        {"type": "sms", "config": {"integration": "SMS", "sender": "+14155550100", "text": "We got it"}},
        {"type": "send_email", "config": {"subject": "Refund", "body": "Hi {{ contact.name }}"}},
        TAG,
        {"type": "change_status", "config": {"status": "pending"}},
        {"type": "create_ticket", "config": {"title": "Refund for {{ contact.name }}"}},
    ]
    workflow = create_workflow(manager_client, steps)
    say(conversation, "refund now", "refund again", "unrelated")
    before = row_counts()
    result = replay(manager_client, django_capture_on_commit_callbacks, workflow)
    assert (result["status"], result["would_start"]) == ("done", 2)
    assert all(counts == {"would_run": 2, "would_skip": 0, "would_fail": 0} for counts in result["steps"].values())
    assert remote.log == []
    assert mail.outbox == []
    after = row_counts()
    changed = {label: after[label] - before[label] for label in after if after[label] != before[label]}
    # Only the replay's own rows: the replay, and the in-process queue's results of its chunk tasks.
    assert changed.pop("workflows.WorkflowReplay") == 1
    assert set(changed) <= {"django_q.Task", "django_q.Success"}
    conversation.refresh_from_db()
    assert (conversation.status, list(conversation.tags.all())) == ("new", [])


def test_a_lost_chunk_task_is_picked_up_by_the_sweep(manager_client, conversation, django_capture_on_commit_callbacks):
    workflow = create_workflow(manager_client, [TAG])
    say(conversation, "refund please")
    started = manager_client.post(f"{URL}{workflow}/replay/", period(), format="json")  # its task is never run
    url = f"/api/workflow-replays/{started.json()['id']}/"
    assert manager_client.get(url).json()["status"] == "running"
    assert sweep_once()["replays"] == 0  # not stalled yet
    with clock.travel(STALL + dt.timedelta(seconds=1)), django_capture_on_commit_callbacks(execute=True):
        assert sweep_once()["replays"] == 1
    result = manager_client.get(url).json()
    assert (result["status"], result["progress"], result["would_start"]) == ("done", {"done": 1, "total": 1}, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
        ({"since": "2026-01-01"}, "until"),
        ({"since": "yesterday", "until": "2026-01-01"}, "since"),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "since"),
        ({"since": "2026-01-01", "until": "2026-02-01", "limit": 0}, "limit"),
        ({"since": "2026-01-01", "until": "2026-02-01", "speed": "fast"}, "speed"),
        (
            {
                "since": "2026-01-01",
                "until": "2026-02-01",
                "definition": {"name": "x", "trigger": {"type": "nope"}, "steps": []},
            },
            "definition",
        ),
    ],
)
def test_bad_replay_requests_are_400_naming_the_field(manager_client, body, field):
    workflow = create_workflow(manager_client, [TAG])
    response = manager_client.post(f"{URL}{workflow}/replay/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_replays_are_for_managers_and_unknown_ids_are_404(manager_client, agent_client):
    workflow = create_workflow(manager_client, [TAG])
    assert agent_client.post(f"{URL}{workflow}/replay/", period(), format="json").status_code == 403
    assert manager_client.post(f"{URL}999999/replay/", period(), format="json").status_code == 404
    assert manager_client.post(f"{URL}99999999999999999999999/replay/", period(), format="json").status_code == 404
    assert manager_client.get("/api/workflow-replays/424242/").status_code == 404
    assert manager_client.get("/api/workflow-replays/99999999999999999999999/").status_code == 404


def test_a_replay_shows_secrets_masked(manager_client, conversation, remote, django_capture_on_commit_callbacks):
    integrations.integration_save(name="CRM", base_url=remote.url_for("/crm"), secrets={"crm_token": "s3cr3t-crm"})
    workflow = create_workflow(
        manager_client,
        [
            {
                "type": "http_request",
                "config": {
                    "integration": "CRM",
                    "path": "/contacts",
                    "method": "POST",
                    "headers": [{"key": "Authorization", "value": "Bearer {{ secrets.crm_token }}"}],
                },
            }
        ],
    )
    say(conversation, "refund one", "refund two")
    result = replay(manager_client, django_capture_on_commit_callbacks, workflow)
    assert result["would_start"] == 2
    assert "s3cr3t-crm" not in str(result)
    (sample, *_) = result["samples"]
    assert sample["steps"][0]["output"]["request"]["headers"]["Authorization"] == "Bearer ****"
    assert remote.log == []


def test_a_chunk_task_run_again_after_the_end_changes_nothing(
    manager_client, conversation, django_capture_on_commit_callbacks
):
    from workflows.tasks import replay_chunk_task

    workflow = create_workflow(manager_client, [TAG])
    say(conversation, "refund please", "parcel?")
    result = replay(manager_client, django_capture_on_commit_callbacks, workflow)
    assert replay_chunk_task(result["id"]) is False  # a redelivered task finds the replay done
    assert manager_client.get(f"/api/workflow-replays/{result['id']}/").json() == result

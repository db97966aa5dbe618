"""Replay under a real `manage.py qcluster` (SQLite + ORM broker, the production settings): the chunks run in the
workers, each enqueueing the next, until the replay is done — and no run is started, nothing is changed."""

from __future__ import annotations

import os

import pytest

from tests.workflows.procs import QCluster, call, migrate, project_env

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="process tests bring their own databases: they run once, in the SQLite pass",
    ),
]

DEFINITION = {
    "name": "Refunds",
    "status": "draft",
    "trigger": {"type": "message.created", "config": {"sender_types": ["customer"], "content_contains": ["refund"]}},
    "steps": [
        {"type": "add_tag", "config": {"tags": ["refund"]}},
        {"type": "send_email", "config": {"subject": "Refund", "body": "Hi {{ contact.name }}"}},
    ],
}


def test_a_replay_runs_in_chunks_in_the_workers(tmp_path):
    env = project_env(sqlite_path=tmp_path / "replay.sqlite3", HELPDESK_REPLAY_CHUNK_EVENTS="2")
    migrate(env)
    workflow = call(env, "create_workflow", DEFINITION)["id"]
    for body in ["A refund please", "Where is my parcel?", "refund!", "Thanks", "Refund again"]:
        call(env, "customer_message", body)
    replay = call(env, "replay_start", workflow)["id"]
    with QCluster(env, tmp_path / "qcluster.log") as cluster:
        report = call(env, "replay_wait", replay, 90, timeout=120)
        assert report["status"] == "done", cluster.log_tail()
    assert report["progress"] == {"done": 5, "total": 5}
    assert report["chunks"] == 3  # 2 + 2 + 1 events, each chunk a task of its own
    assert (report["matched"], report["would_start"]) == (3, 3)
    assert report["steps"]["send_email"] == {"would_run": 3, "would_skip": 0, "would_fail": 0}
    assert report["runs"] == 0

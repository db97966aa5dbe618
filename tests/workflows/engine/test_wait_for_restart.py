"""A `wait_for` run survives a whole-tier restart (docs/managers.md): a real `manage.py qcluster` on the production
settings starts the run, which asks and waits; every worker stops; the customer answers while nothing runs; a new
qcluster resumes the run once, with the answer, from the database alone (the pattern of test_qcluster.py).
"""

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

FINISHED = ["succeeded", "failed", "stopped", "cancelled"]
ASK = "Could you send us your order number?"
DEFINITION = {
    "name": "Ask for the order number",
    "status": "active",
    "trigger": {"type": "conversation.created", "config": {}},
    "steps": [
        {"type": "auto_reply", "config": {"text": ASK}},
        {
            "type": "wait_for",
            "config": {
                "event": "message.created",
                "filter": {"sender_types": ["customer"]},
                "timeout": {"days": 1},
                "save_as": "answer",
            },
        },
        {"type": "auto_reply", "config": {"text": "Thanks ({{ vars.answer.outcome }})"}},
    ],
}


@pytest.fixture
def sqlite_env(tmp_path) -> dict[str, str]:
    env = project_env(sqlite_path=tmp_path / "wait-for.sqlite3")
    migrate(env)
    return env


def test_wait_for_run_survives_a_whole_tier_restart_and_resumes_once(sqlite_env, tmp_path):
    workflow = call(sqlite_env, "create_workflow", DEFINITION)["id"]
    with QCluster(sqlite_env, tmp_path / "before.log") as cluster:
        conversation = call(sqlite_env, "customer_message", "Where is my parcel?")["conversation"]
        waiting = call(sqlite_env, "wait_for", workflow, ["waiting", *FINISHED], 1, 90)
        assert not waiting.get("timed_out"), f"{waiting}\n{cluster.log_tail()}"
    assert cluster.process.returncode is not None, "qcluster did not stop on SIGTERM"
    (run,) = waiting["runs"]
    assert (run["status"], run["replies"]) == ("waiting", [ASK])

    call(sqlite_env, "customer_reply", conversation, "It is A-1234")  # nothing runs now
    assert call(sqlite_env, "snapshot", workflow)["runs"][0]["status"] == "waiting"

    with QCluster(sqlite_env, tmp_path / "after.log") as cluster:
        finished = call(sqlite_env, "wait_for", workflow, FINISHED, 1, 90)
        assert not finished.get("timed_out"), f"{finished}\n{cluster.log_tail()}"
        call(sqlite_env, "enqueue", "workflows.tasks.sweep_task")  # a sweep after it finds nothing left to do
        settled = call(sqlite_env, "wait_for", workflow, FINISHED, 1, 10)
    (run,) = settled["runs"]
    assert run["status"] == "succeeded", run
    assert [(step["type"], step["status"], step["attempts"]) for step in run["steps"]] == [
        ("auto_reply", "succeeded", 1),
        ("wait_for", "succeeded", 1),
        ("auto_reply", "succeeded", 1),
    ]
    assert run["replies"] == [ASK, "Thanks (happened)"]
    state = call(sqlite_env, "run_variables", workflow)
    assert state["runs"][0]["answer"]["outcome"] == "happened" and state["waits"] == 0

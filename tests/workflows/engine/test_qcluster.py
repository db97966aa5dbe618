"""The engine under a real `manage.py qcluster`: a workflow with a wait runs to completion on the production settings.

Each test migrates a database of its own in a subprocess, starts qcluster on it, posts a customer message from
another process (its event is enqueued after commit, as the web server does) and polls the database. The wait is
3 seconds (`minutes: 0.05`) and is resumed by the sweep task, enqueued by the test because the every-minute
schedule only ticks about every 30 s; HELPDESK_SWEEP_SECONDS=1 lets that sweep resume it in time.
Variants: SQLite + ORM broker (always), PostgreSQL + ORM broker, and Redis broker with its queue wiped, which shows
that a lost queue message only delays the work: the sweep finds the undispatched event in the database.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.workflows.procs import QCluster, call, migrate, project_env

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="process tests bring their own databases: they run once, in the SQLite pass",
    ),
]

SWEEP_TASK = "workflows.tasks.sweep_task"
FINISHED = ["succeeded", "failed", "stopped", "cancelled"]
DEFINITION = {
    "name": "Greet VIPs after a pause",
    "status": "active",
    "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
    "steps": [
        {"type": "add_tag", "config": {"tags": ["vip"]}},
        {"type": "wait", "config": {"minutes": 0.05}},
        {"type": "auto_reply", "config": {"text": "Thanks {{ contact.name }}, an agent is on it."}},
    ],
}


@pytest.fixture
def sqlite_env(tmp_path) -> dict[str, str]:
    env = project_env(sqlite_path=tmp_path / "qcluster.sqlite3")
    migrate(env)
    return env


@pytest.fixture
def postgres_env(postgres_url) -> Iterator[dict[str, str]]:
    """A database of this test's own in the throwaway cluster, dropped afterwards."""
    import psycopg

    name = f"qcluster_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env = project_env(database_url=postgres_url.rsplit("/", 1)[0] + f"/{name}")
    migrate(env)
    yield env
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_env(tmp_path, redis_url) -> dict[str, str]:
    """SQLite for the data, the throwaway Redis (a database index of this module's own) as the broker."""
    env = project_env(sqlite_path=tmp_path / "redis-broker.sqlite3", redis_url=redis_url.rsplit("/", 1)[0] + "/7")
    migrate(env)
    return env


def assert_completed(snapshot: dict, cluster: QCluster) -> None:
    """The run finished with every step done once, and the customer sees the tag and exactly one reply."""
    assert not snapshot.get("timed_out"), f"no finished run: {snapshot}\n{cluster.log_tail()}"
    (run,) = snapshot["runs"]
    assert run["status"] == "succeeded", run
    assert [(step["type"], step["status"], step["attempts"]) for step in run["steps"]] == [
        ("add_tag", "succeeded", 1),
        ("wait", "succeeded", 1),
        ("auto_reply", "succeeded", 1),
    ]
    assert run["tags"] == ["vip"]
    assert run["replies"] == ["Thanks Grace Hopper, an agent is on it."]


def run_workflow_with_wait(env: dict[str, str], log) -> dict:
    """Message -> run waits (tag added, no reply yet) -> sweep resumes it after 3 s -> reply sent. Returns the
    finished run as the worker left it."""
    workflow = call(env, "create_workflow", DEFINITION)["id"]
    with QCluster(env, log) as cluster:
        call(env, "customer_message", "Hello, I need help")
        waiting = call(env, "wait_for", workflow, ["waiting", *FINISHED], 1, 90)
        assert not waiting.get("timed_out"), f"the event task did not run: {waiting}\n{cluster.log_tail()}"
        (run,) = waiting["runs"]
        assert (run["status"], run["tags"], run["replies"]) == ("waiting", ["vip"], [])
        call(env, "enqueue", SWEEP_TASK)
        finished = call(env, "wait_for", workflow, FINISHED, 1, 90)
        assert_completed(finished, cluster)
    assert cluster.process.returncode is not None, "qcluster did not stop on SIGTERM"
    return finished["runs"][0]


def test_qcluster_runs_workflow_with_wait_on_sqlite(sqlite_env, tmp_path):
    assert run_workflow_with_wait(sqlite_env, tmp_path / "qcluster.log")["status"] == "succeeded"


def test_qcluster_runs_workflow_with_wait_on_postgresql(postgres_env, tmp_path):
    assert run_workflow_with_wait(postgres_env, tmp_path / "qcluster.log")["status"] == "succeeded"


def test_redis_broker_lost_event_message_is_completed_by_the_sweep(redis_env, tmp_path):
    workflow = call(redis_env, "create_workflow", DEFINITION)["id"]
    call(redis_env, "customer_message", "Hello, I need help")
    posted = time.monotonic()
    purged = call(redis_env, "purge_queue")  # the queue messages of the write's events, lost in Redis
    assert purged["dropped"] >= 1 and purged["left"] == 0, purged
    with QCluster(redis_env, tmp_path / "qcluster.log") as cluster:
        time.sleep(max(0.0, 6 - (time.monotonic() - posted)))  # past the sweep's grace period for fresh events
        lost = call(redis_env, "snapshot", workflow)
        # The wake-ups are gone (one can serve several events) and nothing was dispatched.
        assert lost["runs"] == [] and lost["undispatched"] >= purged["dropped"], lost
        call(redis_env, "enqueue", SWEEP_TASK)
        assert_completed(call(redis_env, "wait_for", workflow, FINISHED, 1, 90), cluster)

"""The supervisor's stall check without saved task results (Q_CLUSTER["save_limit"] -1): a task that finishes,
the probe or any other, shows on the cluster's heartbeat file through django-q2's `post_execute` signal; a tier that
finishes nothing while the probe waits is stalled after HELPDESK_WORKER_STALL_SECONDS.

The in-process queue (`sync`) runs a task through django-q2's real worker and monitor functions, so the first tests
see the heartbeat the cluster's monitor would write; with `sync` off the probe waits in the ORM broker's table
with no cluster to take it, as behind a wedged cluster. The last test runs a real `qcluster` process.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.conf import settings
from django_q.conf import Conf
from django_q.models import OrmQ, Success, Task
from django_q.signals import post_execute
from django_q.tasks import async_task

from conversations import clock
from tests.workflows.procs import QCluster, call, migrate, project_env
from workflows.engine.heartbeat import HEARTBEAT_ENV, beat_after_task, last_beat
from workflows.engine.supervisor import PROBE_TASK, ProgressWatch

STALL_SECONDS = 8


@pytest.fixture
def heartbeat(tmp_path, monkeypatch):
    """A supervised cluster's heartbeat file, with the receiver connected as WorkflowsConfig.ready does there."""
    path = tmp_path / "heartbeat"
    path.touch()
    monkeypatch.setenv(HEARTBEAT_ENV, str(path))
    post_execute.connect(beat_after_task, dispatch_uid="test-heartbeat")
    yield path
    post_execute.disconnect(dispatch_uid="test-heartbeat")


def probe_sent(watch: ProgressWatch) -> dt.datetime:
    """Let the watch send its probe (it is due at once); returns when."""
    now = clock.now()
    watch.next_probe_at = now
    assert watch.stalled(now) is False
    assert watch.probe_sent_at == now
    return now


def test_the_probe_finishing_shows_progress_without_a_saved_result(db, heartbeat):
    assert settings.Q_CLUSTER["save_limit"] == -1
    watch = ProgressWatch(stall_seconds=STALL_SECONDS, heartbeat=heartbeat)

    sent = probe_sent(watch)  # the in-process queue runs it now

    assert heartbeat.read_bytes().startswith(f"{os.getpid()} ".encode())
    assert watch.stalled(sent + dt.timedelta(seconds=STALL_SECONDS + 1)) is False
    assert watch.probe_sent_at is None  # progress seen: the next probe comes later
    assert not Task.objects.exists() and not Success.objects.exists()  # no result row for the wake-ups either


def test_a_waiting_probe_is_a_stall_once_the_threshold_passes(db, heartbeat, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)  # the probe goes to the broker's table; no cluster takes it
    watch = ProgressWatch(stall_seconds=STALL_SECONDS, heartbeat=heartbeat)

    sent = probe_sent(watch)

    assert OrmQ.objects.count() == 1
    assert watch.stalled(sent + dt.timedelta(seconds=STALL_SECONDS - 1)) is False
    assert watch.stalled(sent + dt.timedelta(seconds=STALL_SECONDS)) is True


def test_another_task_finishing_while_the_probe_waits_is_progress(db, heartbeat, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    watch = ProgressWatch(stall_seconds=STALL_SECONDS, heartbeat=heartbeat)
    sent = probe_sent(watch)
    monkeypatch.setattr(Conf, "SYNC", True)

    async_task("workflows.tasks.sweep_task")  # a busy tier: other work finishes, the probe still waits

    assert watch.stalled(sent + dt.timedelta(seconds=STALL_SECONDS)) is False


@pytest.mark.services
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="brings its own database: runs in the SQLite pass")
def test_a_real_cluster_beats_after_each_task(tmp_path):
    path = tmp_path / "heartbeat"
    env = {**project_env(sqlite_path=tmp_path / "heartbeat.sqlite3"), HEARTBEAT_ENV: str(path)}
    migrate(env)
    with QCluster(env, tmp_path / "qcluster.log") as cluster:
        before = last_beat(path)
        call(env, "enqueue", PROBE_TASK)
        deadline = time.monotonic() + 60
        while last_beat(path) == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert last_beat(path) != before, f"no heartbeat after the probe\n{cluster.log_tail()}"

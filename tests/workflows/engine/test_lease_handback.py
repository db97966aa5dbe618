"""A run whose worker died mid-step is resumed by the next sweep, not after its whole lease (150 s): the sweep sees
that the process holding the lease is gone from this host and hands the lease back (workflows/engine/leases.py).
A live holder keeps its lease; a PID reused by another process does not keep a dead holder's lease alive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conversations import services
from conversations.models import Event
from tests.workflows.procs import (
    SLOW_STEP,
    call,
    kill_in_slow_step,
    migrate,
    project_env,
)
from workflows.engine import leases, runner
from workflows.engine.dispatcher import dispatch_event
from workflows.engine.sweep import sweep_once
from workflows.models import WorkflowRun


def idle_process() -> subprocess.Popen:
    """A real process of this host standing for a worker (it waits on its stdin until killed)."""
    return subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)


def leased_run(conversation, make_workflow, holder: str) -> WorkflowRun:
    """A run of a one-step workflow, claimed and then held by `holder` with the full lease ahead of it."""
    make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}])
    message = services.message_create(conversation=conversation, body="Hello?", sender_type="customer")
    (run_id,) = dispatch_event(Event.objects.get(type="message.created", payload__message_id=message.pk).pk)
    assert runner.claim_run(run_id) is not None
    WorkflowRun.objects.filter(pk=run_id).update(leased_by=holder)
    return WorkflowRun.objects.get(pk=run_id)


def test_a_run_claimed_by_this_process_names_it_as_the_lease_holder(conversation, make_workflow):
    run = leased_run(conversation, make_workflow, leases.this_worker())
    assert run.leased_by == leases.holder_of(os.getpid())
    assert run.leased_by.startswith(f"{leases.host_key()}:{os.getpid()}:")


def test_the_lease_of_a_killed_worker_is_handed_back_and_the_run_finishes_at_once(conversation, make_workflow):
    worker = idle_process()
    try:
        run = leased_run(conversation, make_workflow, leases.holder_of(worker.pid))
        assert sweep_once()["runs"] == 0  # alive: its lease keeps every other worker off
        assert WorkflowRun.objects.get(pk=run.pk).status == "running"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        worker.kill()
        worker.wait(timeout=10)
    assert sweep_once()["runs"] == 1  # no clock travel: the lease (150 s) is still far ahead
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert list(conversation.tags.values_list("name", flat=True)) == ["seen"]


def test_a_zombie_worker_counts_as_dead(conversation, make_workflow):
    worker = idle_process()
    holder = leases.holder_of(worker.pid)
    worker.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (leases._stat_fields(worker.pid) or ["?"])[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.02)  # the kernel makes it a zombie until this parent reaps it
    try:
        assert leases.holder_alive(holder) is False
    finally:
        worker.wait(timeout=10)


def test_a_reused_pid_does_not_keep_a_dead_holders_lease(conversation, make_workflow):
    """A holder names its process's start time too: a live process with the same PID started at another moment is
    someone else."""
    reused = f"{leases.host_key()}:{os.getpid()}:1"
    assert leases.holder_alive(leases.this_worker()) is True
    assert leases.holder_alive(reused) is False
    run = leased_run(conversation, make_workflow, reused)
    assert sweep_once()["runs"] == 1
    assert WorkflowRun.objects.get(pk=run.pk).status == "succeeded"


def test_a_lease_held_on_another_host_is_left_to_expire(conversation, make_workflow):
    run = leased_run(conversation, make_workflow, f"elsewhere/1:{os.getpid() + 100000}:1")
    assert leases.hand_back_dead_leases() == 0
    assert sweep_once()["runs"] == 0
    assert WorkflowRun.objects.get(pk=run.pk).status == "running"


@pytest.mark.services
def test_a_worker_sigkilled_mid_step_has_its_run_resumed_well_under_the_lease(tmp_path):
    """A real worker process on a SQLite file of its own executes a run and blocks in a step; it is SIGKILLed there.
    A sweep in another process right after finishes the run, with the lease (150 s) still far ahead."""
    env = project_env(sqlite_path=tmp_path / "kill.sqlite3")
    migrate(env)
    marker = tmp_path / "slow-step-started"
    definition = {
        "name": "Tag, then a slow call",
        "status": "active",
        "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        "steps": [
            {"type": "add_tag", "config": {"tags": ["vip"]}},
            {"type": SLOW_STEP, "config": {}},
            {"type": "add_tag", "config": {"tags": ["done"]}},
        ],
    }
    killed_at = kill_in_slow_step(env, definition, marker, tmp_path / "worker.log")
    result = call(env, "sweep_now", 1)
    resumed_after = time.monotonic() - killed_at
    (before,) = result["before"]["runs"]
    assert before["status"] == "running"
    (after,) = result["after"]["runs"]
    assert after["status"] == "succeeded", after
    assert [(step["type"], step["status"], step["attempts"]) for step in after["steps"]] == [
        ("add_tag", "succeeded", 1),
        (SLOW_STEP, "succeeded", 1),
        ("add_tag", "succeeded", 1),
    ]
    assert after["tags"] == ["done", "vip"]
    assert resumed_after < runner.LEASE.total_seconds() / 5, resumed_after
    print(
        f"\nworker SIGKILLed mid-step: run finished {resumed_after:.1f} s later (lease {runner.LEASE.total_seconds():g} s)"
    )

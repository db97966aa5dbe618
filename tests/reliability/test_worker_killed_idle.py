"""Scenario: a worker of the cluster is SIGKILLed while idle (`kill -9`, the OOM killer), under `make run`'s
`runserver_with_worker`, on PostgreSQL with the Redis broker and a real django-q2 cluster.

django-q2's idle workers wait in `queue.get()` on one shared queue, and the one blocked reading it holds the queue's
lock; killed there, it never releases it, and every worker the cluster respawns blocks on that lock for ever. The
test kills exactly that worker (found by the kernel function it sleeps in), then checks that automation resumes with
nobody acting: the messages posted after the kill get their runs, the cluster is restarted and runs tasks again,
and stopping the tier leaves no process behind, even while the cluster is wedged. Also: the cluster's sentinel
killed while idle (under `helpdesk_supervisor`) is replaced, and the old cluster's processes are gone.
Figures printed: seconds from the kill until the work posted after it was done, and until the restarted cluster
reported in; runs finished.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.workflows.procs import free_port, queue_reader

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="process tests bring their own databases: they run once, in the SQLite pass",
    ),
]

STALL_SECONDS = 8
SWEEP_SECONDS = 1  # tier_env
DEFINITION = {
    "name": "Tag every customer message",
    "status": "active",
    "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
    "steps": [{"type": "add_tag", "config": {"tags": ["seen"]}}],
}


def runserver_with_worker(start_tier, env: dict[str, str]):
    return start_tier(env, "runserver_with_worker", "--port", str(free_port()), "--worker-log", "{log}")


def kill_queue_reader(tier, cluster: dict, wait_seconds: float = 30) -> int:
    """SIGKILL the idle worker that holds the shared queue's lock, once one reads it (a new worker warms up before
    its first read, workflows/engine/warmup.py); returns its PID."""
    deadline = time.monotonic() + wait_seconds
    holder = queue_reader(cluster["workers"])
    while holder is None and time.monotonic() < deadline:
        time.sleep(0.1)
        holder = queue_reader(cluster["workers"])
    assert holder, f"no worker of {cluster} waits on the task queue\n{tier.log_tail()}"
    os.kill(holder, signal.SIGKILL)
    return holder


def finished(snapshot: dict, tier, what: str) -> list[dict]:
    assert not snapshot.get("timed_out"), f"{what}: {snapshot}\n{tier.log_tail()}"
    return snapshot["runs"]


def test_worker_killed_while_idle_automation_resumes_with_nobody_acting(tier_env, driver, start_tier):
    env = {**tier_env, "HELPDESK_WORKER_STALL_SECONDS": str(STALL_SECONDS)}
    workflow = driver.call("create_workflow", DEFINITION)["id"]
    tier = runserver_with_worker(start_tier, env)
    cluster = tier.cluster()
    driver.call("customer_messages", 1, "Before the kill")
    finished(driver.call("wait_for", workflow, ["succeeded"], 1, 60), tier, "the tier did not work before the kill")

    kill_queue_reader(tier, cluster)
    killed_at = time.time()
    driver.call("customer_messages", 3, "After the kill")
    finished(
        driver.call("wait_for", workflow, ["succeeded"], 4, 60),
        tier,
        "automation did not resume after an idle worker was killed",
    )
    resumed_at = max(run["finished"] for run in driver.call("run_times", workflow)["runs"])
    restarted = tier.cluster()  # a new cluster reports in: the wedged one was replaced
    driver.call("customer_messages", 1, "After the restart")
    runs = finished(driver.call("wait_for", workflow, ["succeeded"], 5, 60), tier, "the restarted tier did no work")

    assert [(run["status"], run["tags"], run["tag_events"]) for run in runs] == [("succeeded", ["seen"], 1)] * 5
    print(
        f"\nworker killed idle: automation resumed {resumed_at - killed_at:.1f} s after the kill, cluster restarted "
        f"after {restarted['found_at'] - killed_at:.1f} s (sweep {SWEEP_SECONDS} s, stall threshold "
        f"{STALL_SECONDS} s); {len(runs)}/5 runs finished, each tag applied once"
    )


def test_stopping_the_tier_while_the_cluster_is_wedged_leaves_no_process(tier_env, start_tier):
    env = {**tier_env, "HELPDESK_WORKER_STALL_SECONDS": "300"}  # no healing: stop it while wedged
    tier = runserver_with_worker(start_tier, env)
    cluster = tier.cluster()
    kill_queue_reader(tier, cluster)
    time.sleep(2)  # the cluster respawns the worker, which blocks on the dead one's lock
    started = time.monotonic()
    tier.stop()
    stopped_in = time.monotonic() - started

    assert tier.leftovers() == [], f"processes left after the tier stopped\n{tier.log_tail()}"
    print(f"\nwedged tier stopped in {stopped_in:.1f} s, no process left")


def test_cluster_sentinel_killed_while_idle_is_replaced_without_orphans(tier_env, driver, start_tier):
    """The process that guards the workers dies instead: the cluster's main process exits, the supervisor starts a
    new cluster and kills what was left of the old one (its workers would otherwise wait on the queue for ever)."""
    env = {**tier_env, "HELPDESK_WORKER_STALL_SECONDS": str(STALL_SECONDS)}
    workflow = driver.call("create_workflow", DEFINITION)["id"]
    tier = start_tier(env, "helpdesk_supervisor")
    cluster = tier.cluster()
    os.kill(cluster["sentinel"], signal.SIGKILL)
    killed_at = time.time()
    restarted = tier.cluster()
    driver.call("customer_messages", 1, "After the new cluster")
    runs = finished(driver.call("wait_for", workflow, ["succeeded"], 1, 60), tier, "the new cluster did no work")

    old = {cluster["monitor"], cluster["pusher"], *cluster["workers"]}
    assert old.isdisjoint(tier.leftovers()), f"processes of the killed cluster are still alive\n{tier.log_tail()}"
    assert [(run["status"], run["tags"]) for run in runs] == [("succeeded", ["seen"])]
    print(f"\nsentinel killed: new cluster after {restarted['found_at'] - killed_at:.1f} s, old processes gone")

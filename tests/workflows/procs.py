"""Real processes for the durability tests and the engine benchmark: a migrated database of their own, a `qcluster`
worker, a gunicorn-served instance, and small Django scripts run in a subprocess of their own.

The test process itself runs on pytest-django's in-memory database, so everything that must share a database with
a worker runs here, in subprocesses: `python -m tests.workflows.procs <command> <json args>` sets Django up with the
environment it is given, runs one command below and prints its JSON result as the last line of stdout.
Processes are stopped by their own PID (STACK.md: SIGTERM to qcluster's main PID, never to its process group
while it is alive), and only loopback addresses are used.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SLOW_STEP = "test_slow_step"
SLOW_MARKER_ENV = "HELPDESK_TEST_SLOW_MARKER"


# --- the parent side: environments and processes ---------------------------------------------------------------

def project_env(*, sqlite_path: Path | None = None, database_url: str = "", redis_url: str = "",
                **extra: str) -> dict[str, str]:
    """Environment for a subprocess on the production settings, pointed at its own database (and broker).

    DATABASE_URL and REDIS_URL are cleared unless given, so a PostgreSQL test pass cannot leak its test database
    into a process meant to run on a SQLite file.
    """
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "DJANGO_SETTINGS_MODULE")}
    env.update({"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "LOG_LEVEL": "WARNING", "DEBUG": "0",
                "PYTHONPATH": str(ROOT), "HELPDESK_SWEEP_SECONDS": "1"})
    if sqlite_path is not None:
        env["SQLITE_PATH"] = str(sqlite_path)
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def migrate(env: dict[str, str], timeout: float = 180) -> None:
    """Create the tables (and, through post_migrate, the sweep schedule) in the subprocess's database."""
    result = subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")


def call(env: dict[str, str], command: str, *args: Any, timeout: float = 120) -> Any:
    """Run one command of this module in a fresh Django process and return its JSON result."""
    result = subprocess.run([PYTHON, "-m", "tests.workflows.procs", command, json.dumps(args)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{command} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


def start_command(env: dict[str, str], command: str, *args: Any, log: Path) -> subprocess.Popen:
    """Start one command of this module without waiting (for a process the test will kill)."""
    with open(log, "ab") as out:
        return subprocess.Popen([PYTHON, "-m", "tests.workflows.procs", command, json.dumps(args)], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)


class QCluster:
    """A `manage.py qcluster` subprocess, logging to a file; stopped with SIGTERM to its main PID."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> "QCluster":
        with open(self.log, "ab") as out:
            # A session of its own: stop() can reap leftover workers by this group id if the cluster hangs.
            self.process = subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM to the main PID only (STACK.md); if it has not stopped in `timeout` s, kill what it started."""
        process = self.process
        if process is None or process.poll() is not None:
            return process.returncode if process else None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group of the session we created for it
            return process.wait(timeout=10)

    def __enter__(self) -> "QCluster":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """The project served like production (`gunicorn -w N`) on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2) -> None:
        self.env, self.log, self.workers = env, log, workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "Gunicorn":
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 "--log-level", "warning", "helpdesk.wsgi:application"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's arbiter stops its own workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- the child side: commands run inside a Django process --------------------------------------------------------

def _slow_step_type():
    """A test-only step type that blocks (touching a marker file first) while SLOW_MARKER_ENV names a file."""
    from workflows.steps.registry import StepOutcome, StepType

    class SlowStep(StepType):
        type = SLOW_STEP
        label = "Slow test step"
        schema = {"type": "object"}

        def execute(self, config, ctx):
            marker = os.environ.get(SLOW_MARKER_ENV)
            if marker:
                Path(marker).write_text(str(os.getpid()))
                time.sleep(600)
            return StepOutcome(output={"slow": bool(marker)})

    return SlowStep


def cmd_create_workflow(definition: dict) -> dict:
    """Save a workflow through the service layer; returns its id."""
    from workflows import services

    return {"id": services.workflow_create(definition=definition).pk}


def cmd_customer_message(body: str, subject: str = "Durability check") -> dict:
    """Open a conversation and post a customer message (its event is enqueued on commit, as in production)."""
    from conversations import services

    contact = services.contact_create(name="Grace Hopper", email="grace@example.com")
    conversation = services.conversation_open(contact=contact, channel="email", subject=subject)
    message = services.message_create(conversation=conversation, body=body, sender_type="customer")
    return {"conversation": conversation.pk, "message": message.pk}


def cmd_purge_queue() -> dict:
    """Drop every message waiting in the broker, as a crashed Redis or a lost delivery would."""
    from django_q.brokers import get_broker

    broker = get_broker()
    waiting = broker.queue_size()
    broker.purge_queue()
    return {"dropped": waiting, "left": broker.queue_size()}


def cmd_enqueue(func: str) -> dict:
    """Hand a task to the configured broker (as the schedule or a web request would)."""
    from django_q.tasks import async_task

    return {"task": async_task(func)}


def cmd_snapshot(workflow_id: int) -> dict:
    """What a user sees of the workflow's runs and of the conversations they touched."""
    from conversations.models import Event, Message
    from workflows.models import WorkflowRun

    runs = []
    for run in WorkflowRun.objects.filter(workflow_id=workflow_id).order_by("pk"):
        conversation = run.conversation
        runs.append({
            "id": run.pk, "status": run.status, "error": run.error, "position": run.position,
            "steps": [{"type": s.type, "status": s.status, "attempts": s.attempts} for s in run.steps.all()],
            "tags": sorted(conversation.tags.values_list("name", flat=True)),
            "replies": list(Message.objects.filter(conversation=conversation, sender_type__in=["ai", "system"])
                            .values_list("body", flat=True)),
            "tag_events": Event.objects.filter(conversation=conversation, type="conversation.tags_changed").count(),
        })
    return {"runs": runs, "undispatched": Event.objects.filter(dispatched_at__isnull=True).count()}


def cmd_wait_for(workflow_id: int, statuses: list[str], runs: int = 1, timeout: float = 60) -> dict:
    """Poll until `runs` runs of the workflow are in one of `statuses`, or the timeout passes; return a snapshot."""
    from django.db import close_old_connections

    deadline = time.monotonic() + timeout
    while True:
        snapshot = cmd_snapshot(workflow_id)
        done = [run for run in snapshot["runs"] if run["status"] in statuses]
        if len(done) >= runs or time.monotonic() > deadline:
            snapshot["timed_out"] = len(done) < runs
            return snapshot
        close_old_connections()
        time.sleep(0.25)


def cmd_run_with_slow_step(definition: dict, body: str) -> dict:
    """Create a workflow holding the slow step and execute its run in this process (which the test kills)."""
    from conversations.models import Event
    from workflows.steps import step_types
    from workflows.sweep import dispatch_and_run

    with step_types.register_temporarily(_slow_step_type()):
        workflow = cmd_create_workflow(definition)
        created = cmd_customer_message(body)
        event = Event.objects.get(type="message.created", payload__message_id=created["message"])
        dispatch_and_run(event.pk)
    return {"workflow": workflow["id"], "finished": True}


def cmd_sweep_after_lease(workflow_id: int) -> dict:
    """Another worker, later: move the clock past the lease and sweep once; return what it did and a snapshot."""
    from conversations import clock
    from workflows import runner
    from workflows.steps import step_types
    from workflows.sweep import EVENT_GRACE, sweep_once

    with step_types.register_temporarily(_slow_step_type()):
        before = cmd_snapshot(workflow_id)
        with clock.travel(runner.LEASE + EVENT_GRACE + runner.LEASE / 10):
            done = sweep_once()
    return {"before": before, "sweep": done, "after": cmd_snapshot(workflow_id)}


# --- child commands of the reliability scenarios (tests/reliability/): aggregate figures, not per-run rows -----

def cmd_api_token(username: str = "reliability-manager") -> dict:
    """A support manager (who may also work conversations) and an API token, for tests driving a served instance."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from conversations.roles import MANAGERS_GROUP

    user = User.objects.create_user(username, is_staff=True)  # no password: API token only (and no slow hashing)
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return {"token": Token.objects.create(user=user).key}


def cmd_tick_scheduler() -> dict:
    """Make every django-q2 schedule due and run django-q2's scheduler once, as each cluster does about every 30 s:
    the sweep starts now instead of within the minute."""
    from django.utils import timezone
    from django_q.brokers import get_broker
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    due = Schedule.objects.update(next_run=timezone.now() - dt.timedelta(seconds=1))
    scheduler(broker=get_broker())
    return {"schedules": due}


def cmd_engine_figures() -> dict:
    """What the database says about the work: events (and how many are undispatched), runs by status, doubled runs,
    retried steps, and the auto replies the runs wrote (one per succeeded auto_reply step, or an effect doubled)."""
    from django.db.models import Count, Max, Q

    from conversations.models import Event, Message
    from workflows.models import StepRun, WorkflowRun

    steps = StepRun.objects.aggregate(retried=Count("pk", filter=Q(attempts__gt=1)), max_attempts=Max("attempts"),
                                      replies=Count("pk", filter=Q(type="auto_reply", status="succeeded")))
    return {
        "events": Event.objects.count(),
        "undispatched": Event.objects.filter(dispatched_at__isnull=True).count(),
        "customer_messages": Message.objects.filter(sender_type="customer").count(),
        "runs": dict(WorkflowRun.objects.values_list("status").annotate(n=Count("pk")).order_by()),
        "doubled_runs": WorkflowRun.objects.values("workflow", "event").annotate(n=Count("pk")).filter(n__gt=1)
        .order_by().count(),
        "retried_steps": steps["retried"], "max_attempts": steps["max_attempts"] or 0,
        "reply_steps": steps["replies"],
        "replies": Message.objects.filter(sender_type="ai").count(),
    }


def _overdue() -> bool:
    """Work the sweep should have taken: a due wait or retry, a run whose worker's lease expired, or an event whose
    queue message did not come."""
    from conversations import clock
    from conversations.models import Event
    from workflows.models import WorkflowRun

    now = clock.now()
    late = now - dt.timedelta(seconds=2)
    return (WorkflowRun.objects.filter(status__in=["queued", "waiting"], resume_at__lte=late).exists()
            or WorkflowRun.objects.filter(status="running", lease_until__lte=late).exists()
            or Event.objects.filter(dispatched_at__isnull=True, occurred_at__lte=now - dt.timedelta(seconds=10))
            .exists())


def cmd_wait_until_waiting(runs: int, timeout: float = 60) -> dict:
    """Poll until `runs` runs are waiting (and no event is left undispatched); return the figures."""
    from django.db import close_old_connections

    deadline = time.monotonic() + timeout
    while True:
        figures = cmd_engine_figures()
        if (figures["runs"].get("waiting", 0) >= runs and not figures["undispatched"]) or time.monotonic() > deadline:
            return figures
        close_old_connections()
        time.sleep(0.25)


def cmd_wait_until_settled(runs: int, timeout: float = 120, tick_every: float = 10) -> dict:
    """Poll until every event is dispatched and at least `runs` runs exist, all finished; return the figures.

    Overdue work starts the sweep's schedule at once (at most every `tick_every` s) instead of at the next minute.
    """
    from django.db import close_old_connections

    started = time.monotonic()
    last_tick, ticks = 0.0, 0
    while True:
        figures = cmd_engine_figures()
        finished = sum(figures["runs"].get(status, 0) for status in ("succeeded", "failed", "stopped", "cancelled"))
        total = sum(figures["runs"].values())
        settled = figures["undispatched"] == 0 and total >= runs and finished == total
        if settled or time.monotonic() - started > timeout:
            return {**figures, "timed_out": not settled, "seconds": round(time.monotonic() - started, 1),
                    "ticks": ticks}
        if time.monotonic() - last_tick > tick_every and _overdue():
            cmd_tick_scheduler()
            last_tick, ticks = time.monotonic(), ticks + 1
        close_old_connections()
        time.sleep(0.5)


COMMANDS = {name[len("cmd_"):]: function for name, function in globals().items() if name.startswith("cmd_")}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    result = COMMANDS[argv[0]](*json.loads(argv[1] if len(argv) > 1 else "[]"))
    print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

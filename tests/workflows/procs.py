"""Real processes for the durability tests and the engine benchmark: a migrated database of their own, a `qcluster`
worker, a gunicorn-served instance, and small Django scripts run in a subprocess of their own.

The test process itself runs on pytest-django's in-memory database, so everything that must share a database with
a worker runs here, in subprocesses: `python -m tests.workflows.procs <command> <json args>` sets Django up with the
environment it is given, runs one command below and prints its JSON result as the last line of stdout.
Processes are stopped by their own PID (SIGTERM to qcluster's main PID, never to its process group
while it is alive), and only loopback addresses are used.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import select
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


def project_env(
    *, sqlite_path: Path | None = None, database_url: str = "", redis_url: str = "", **extra: str
) -> dict[str, str]:
    """Environment for a subprocess on the production settings, pointed at its own database (and broker).

    DATABASE_URL and REDIS_URL are cleared unless given, so a PostgreSQL test pass cannot leak its test database
    into a process meant to run on a SQLite file.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
            "PYTHONPATH": str(ROOT),
            "HELPDESK_SWEEP_SECONDS": "1",
            # The load and recovery tests drive the API as fast as they can: the rate limits are not under test.
            "HELPDESK_THROTTLE_USER": "1000000/min",
            "HELPDESK_THROTTLE_ANON": "1000000/min",
        }
    )
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
    result = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")


def call(env: dict[str, str], command: str, *args: Any, timeout: float = 120, module: str = __name__) -> Any:
    """Run one command of `module` (this one unless named) in a fresh Django process and return its JSON result."""
    result = subprocess.run(
        [PYTHON, "-m", module, command, json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{command} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


class Driver:
    """One Django process that runs this module's commands on request, a JSON line each way: a scenario making a
    dozen calls would otherwise start Django a dozen times (seconds each on a busy machine)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "tests.workflows.procs", "serve"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def call(self, command: str, *args: Any, timeout: float = 600) -> Any:
        """Run one command in the driver process and return its JSON result (raise with its traceback if it failed)."""
        self.process.stdin.write(json.dumps([command, args]) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"{command}: no answer from the driver within {timeout} s")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{command} failed in the driver:\n{answer['error']}")
        return answer["result"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_command(env: dict[str, str], command: str, *args: Any, log: Path) -> subprocess.Popen:
    """Start one command of this module without waiting (for a process the test will kill)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [PYTHON, "-m", "tests.workflows.procs", command, json.dumps(args)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


class QCluster:
    """A `manage.py qcluster` subprocess, logging to a file; stopped with SIGTERM to its main PID."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> QCluster:
        with open(self.log, "ab") as out:
            # A session of its own: stop() can reap leftover workers by this group id if the cluster hangs.
            self.process = subprocess.Popen(
                [PYTHON, "manage.py", "qcluster"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM to the main PID only (django-q2 hangs when its whole group gets it); if it has not stopped in
        `timeout` s, kill what it started."""
        process = self.process
        if process is None or process.poll() is not None:
            return process.returncode if process else None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group of the session we created for it
            return process.wait(timeout=10)

    def __enter__(self) -> QCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def kill_in_slow_step(env: dict[str, str], definition: dict, marker: Path, log: Path) -> float:
    """Run `definition` on a customer message in a worker process whose slow step drops `marker` when it starts,
    SIGKILL the worker there (mid-step, inside its transaction) and return the monotonic time of the kill."""
    worker = start_command({**env, SLOW_MARKER_ENV: str(marker)}, "run_with_slow_step", definition, "Help!", log=log)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), log.read_text()
        worker.send_signal(signal.SIGKILL)
        return time.monotonic()
    finally:
        worker.kill()
        worker.wait(timeout=10)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """The project served like production (`gunicorn -w N`) on a free loopback port."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        workers: int = 2,
        *,
        python: str = PYTHON,
        app: str = "helpdesk.wsgi:application",
        cwd: Path = ROOT,
    ) -> None:
        """`python`, `app` and `cwd` default to this project; the benchmarks serve their peer projects with them."""
        self.env, self.log, self.workers = env, log, workers
        self.python, self.app, self.cwd = python, app, cwd
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Gunicorn:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                # --timeout: django-helpdesk's list page at 100k tickets takes about 30 s, gunicorn's default limit.
                [
                    self.python,
                    "-m",
                    "gunicorn",
                    "-w",
                    str(self.workers),
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "--log-level",
                    "warning",
                    "--timeout",
                    "300",
                    self.app,
                ],
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
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

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- the parent side: the worker tier's processes, for the reliability tests --------------------------------------


def start_manage(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    """Start `manage.py <args>` in a session of its own, logging to a file (a worker tier the test will kill in)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def session_processes(session_id: int) -> list[int]:
    """The live (not zombie) processes of a session, as `ps` lists them."""
    listing = subprocess.run(["ps", "-o", "pid=,stat=", "-s", str(session_id)], capture_output=True, text=True)
    return [int(pid) for pid, stat in (line.split()[:2] for line in listing.stdout.splitlines()) if "Z" not in stat]


def kill_session(session_id: int) -> list[int]:
    """SIGKILL what is left of a session this test started (cleanup after a failure); returns the PIDs killed."""
    leftovers = session_processes(session_id)
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return leftovers


def waiting_in(pid: int) -> str:
    """The kernel function the process sleeps in (/proc/PID/wchan), "" when it is gone."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


PIPE_READS = ("pipe_read", "pipe_wait")  # what a blocked pipe read sleeps in: Linux >= 5.6 (anon_pipe_read), older


def queue_reader(worker_pids: list[int]) -> int | None:
    """The idle worker blocked reading the cluster's shared task queue: the one holding the queue's lock (the
    other idle workers wait for that lock in a futex)."""
    return next((pid for pid in worker_pids if any(reading in waiting_in(pid) for reading in PIPE_READS)), None)


def connected_to(port: int, pids: list[int]) -> list[int]:
    """Those of `pids` with an open TCP connection to 127.0.0.1:`port` (the worker a fake receiver is serving)."""
    tcp = Path("/proc/net/tcp").read_text().splitlines()[1:]
    inodes = {fields[9] for fields in (line.split() for line in tcp) if fields[2] == f"0100007F:{port:04X}"}
    found = []
    for pid in pids:
        try:
            sockets = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in sockets for inode in inodes):
            found.append(pid)
    return found


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
        runs.append(
            {
                "id": run.pk,
                "status": run.status,
                "error": run.error,
                "position": run.position,
                "steps": [{"type": s.type, "status": s.status, "attempts": s.attempts} for s in run.steps.all()],
                "tags": sorted(conversation.tags.values_list("name", flat=True)),
                "replies": list(
                    Message.objects.filter(conversation=conversation, sender_type__in=["ai", "system"]).values_list(
                        "body", flat=True
                    )
                ),
                "tag_events": Event.objects.filter(conversation=conversation, type="conversation.tags_changed").count(),
            }
        )
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
    from workflows.engine.drain import dispatch_and_run
    from workflows.steps import step_types

    with step_types.register_temporarily(_slow_step_type()):
        workflow = cmd_create_workflow(definition)
        created = cmd_customer_message(body)
        event = Event.objects.get(type="message.created", payload__message_id=created["message"])
        dispatch_and_run(event.pk)
    return {"workflow": workflow["id"], "finished": True}


def cmd_sweep_after_lease(workflow_id: int) -> dict:
    """Another worker, later: move the clock past the lease and sweep once; return what it did and a snapshot."""
    from conversations import clock
    from workflows.engine import runner
    from workflows.engine.sweep import EVENT_GRACE, sweep_once
    from workflows.steps import step_types

    with step_types.register_temporarily(_slow_step_type()):
        before = cmd_snapshot(workflow_id)
        with clock.travel(runner.LEASE + EVENT_GRACE + runner.LEASE / 10):
            done = sweep_once()
    return {"before": before, "sweep": done, "after": cmd_snapshot(workflow_id)}


def cmd_sweep_now(workflow_id: int) -> dict:
    """Another worker on the same host, at once (no clock travel): sweep once; return what it did and a snapshot."""
    from workflows.engine.sweep import sweep_once
    from workflows.steps import step_types

    with step_types.register_temporarily(_slow_step_type()):
        before = cmd_snapshot(workflow_id)
        done = sweep_once()
    return {"before": before, "sweep": done, "after": cmd_snapshot(workflow_id)}


def cmd_api_token(username: str = "reliability-manager", group: str = "Support managers") -> dict:
    """A staff user in the role group `group` (managers may also work conversations) with an API token, for a client
    talking to a served instance (benchmarks, reliability scenarios). No password: API token only."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    user = User.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return {"token": Token.objects.create(user=user).key}


def cmd_run_watermark() -> dict:
    """The highest run id so far: the runs a benchmark phase starts are the ones above it."""
    from django.db.models import Max

    from workflows.models import WorkflowRun

    return {"id": WorkflowRun.objects.aggregate(top=Max("pk"))["top"] or 0}


def _runs_above(watermark: int) -> dict:
    """How many runs above `watermark` exist and are finished, by status, and when the first and last finished."""
    from django.db.models import Count, Max, Min

    from workflows.choices import FINISHED_RUN_STATUSES
    from workflows.models import WorkflowRun

    runs = WorkflowRun.objects.filter(pk__gt=watermark)
    statuses = dict(runs.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))
    span = runs.filter(status__in=FINISHED_RUN_STATUSES).aggregate(first=Min("finished_at"), last=Max("finished_at"))
    finished = sum(n for status, n in statuses.items() if status in FINISHED_RUN_STATUSES)
    return {
        "runs": sum(statuses.values()),
        "finished": finished,
        "statuses": statuses,
        "first_finished_at": span["first"].timestamp() if span["first"] else None,
        "last_finished_at": span["last"].timestamp() if span["last"] else None,
    }


def cmd_wait_runs_finished(watermark: int, expected: int, timeout: float, poll: float = 0.5) -> dict:
    """Poll until `expected` runs above `watermark` exist and every one is finished, or `timeout` s pass.

    The result says how many were left (`left`: not created yet or not finished) and, from `finished_at` in the
    database, when the first and the last run finished: the drain rate of a benchmark is timed from the database,
    not from this poll.
    """
    from django.db import close_old_connections

    deadline = time.monotonic() + timeout
    while True:
        state = _runs_above(watermark)
        done = state["finished"] >= expected and state["runs"] == state["finished"]
        if done or time.monotonic() > deadline:
            return {**state, "left": max(expected, state["runs"]) - state["finished"], "timed_out": not done}
        close_old_connections()
        time.sleep(poll)


def cmd_customer_messages(count: int, prefix: str) -> dict:
    """Post `count` customer messages, each in a conversation of its own (a burst of work for the workers)."""
    return {
        "conversations": [
            cmd_customer_message(f"{prefix} {n}", subject=f"{prefix} {n}")["conversation"] for n in range(count)
        ]
    }


def cmd_run_times(workflow_id: int) -> dict:
    """Each run of the workflow with its status and when its event happened and it finished (epoch seconds)."""
    from workflows.models import WorkflowRun

    runs = WorkflowRun.objects.filter(workflow_id=workflow_id).select_related("event").order_by("pk")
    return {
        "runs": [
            {
                "id": run.pk,
                "status": run.status,
                "occurred": run.event.occurred_at.timestamp(),
                "finished": run.finished_at.timestamp() if run.finished_at else None,
            }
            for run in runs
        ]
    }


def cmd_cluster(known_sentinels: list[int], timeout: float = 60) -> dict:
    """Wait until a cluster other than `known_sentinels` reports its processes (django-q2's Stat, kept in Redis
    with the Redis broker); returns its sentinel, worker, monitor and pusher PIDs."""
    from django_q.status import Stat

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for stat in Stat.get_all():
            if stat.sentinel not in known_sentinels and stat.workers:
                return {
                    "sentinel": stat.sentinel,
                    "workers": stat.workers,
                    "monitor": stat.monitor,
                    "pusher": stat.pusher,
                    "found_at": time.time(),
                }
        time.sleep(0.2)
    raise TimeoutError(f"no new cluster reported its processes within {timeout} s")


# --- child commands of the reliability scenarios (tests/reliability/): aggregate figures, not per-run rows -----


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

    # Runs first: a run is finished only after its steps committed, so the steps and replies read after it are at
    # least as complete (reading steps first could miss the last step of a run that finished in between).
    runs = dict(WorkflowRun.objects.values_list("status").annotate(n=Count("pk")).order_by())
    steps = StepRun.objects.aggregate(
        retried=Count("pk", filter=Q(attempts__gt=1)),
        max_attempts=Max("attempts"),
        replies=Count("pk", filter=Q(type="auto_reply", status="succeeded")),
    )
    return {
        "events": Event.objects.count(),
        "undispatched": Event.objects.filter(dispatched_at__isnull=True).count(),
        "customer_messages": Message.objects.filter(sender_type="customer").count(),
        "runs": runs,
        "doubled_runs": WorkflowRun.objects.values("workflow", "event")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by()
        .count(),
        "retried_steps": steps["retried"],
        "max_attempts": steps["max_attempts"] or 0,
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
    return (
        WorkflowRun.objects.filter(status__in=["queued", "waiting"], resume_at__lte=late).exists()
        or WorkflowRun.objects.filter(status="running", lease_until__lte=late).exists()
        or Event.objects.filter(dispatched_at__isnull=True, occurred_at__lte=now - dt.timedelta(seconds=10)).exists()
    )


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
            return {
                **figures,
                "timed_out": not settled,
                "seconds": round(time.monotonic() - started, 1),
                "ticks": ticks,
            }
        if time.monotonic() - last_tick > tick_every and _overdue():
            cmd_tick_scheduler()
            last_tick, ticks = time.monotonic(), ticks + 1
        close_old_connections()
        time.sleep(0.5)


def cmd_replay_start(workflow_id: int) -> dict:
    """Start a replay of the workflow over the last day (its first chunk is enqueued on commit, to the broker)."""
    import datetime as dt

    from conversations import clock
    from workflows.engine import replay
    from workflows.models import Workflow

    now = clock.now()
    started = replay.replay_start(
        workflow=Workflow.objects.get(pk=workflow_id),
        since=now - dt.timedelta(days=1),
        until=now + dt.timedelta(minutes=1),
    )
    return {"id": started.pk}


def cmd_replay_wait(replay_id: int, timeout: float = 60) -> dict:
    """Poll until the replay is no longer running (or the timeout passes); its report, chunk count and run count."""
    from django.db import close_old_connections

    from workflows.engine import replay
    from workflows.models import WorkflowReplay, WorkflowRun

    deadline = time.monotonic() + timeout
    while True:
        row = WorkflowReplay.objects.get(pk=replay_id)
        if row.status != "running" or time.monotonic() > deadline:
            return {**replay.replay_report(row), "chunks": row.chunks, "runs": WorkflowRun.objects.count()}
        close_old_connections()
        time.sleep(0.25)


def cmd_customer_reply(conversation_id: int, body: str) -> dict:
    """A customer message on an existing conversation (its event is enqueued on commit, as in production)."""
    from conversations import services
    from conversations.models import Conversation

    conversation = Conversation.objects.get(pk=conversation_id)
    return {"message": services.message_create(conversation=conversation, body=body, sender_type="customer").pk}


def cmd_run_variables(workflow_id: int) -> dict:
    """Each run's variables and the `wait_for` rows still waiting (docs/managers.md)."""
    from workflows.models import RunWait, WorkflowRun

    return {
        "runs": [run.variables for run in WorkflowRun.objects.filter(workflow_id=workflow_id).order_by("pk")],
        "waits": RunWait.objects.count(),
    }


COMMANDS = {name[len("cmd_") :]: function for name, function in globals().items() if name.startswith("cmd_")}


def serve() -> None:
    """The driver's side of `Driver`: one command per stdin line, one JSON answer per stdout line, until EOF."""
    import traceback

    from django.db import close_old_connections

    for line in sys.stdin:
        command, args = json.loads(line)
        try:
            answer = {"result": COMMANDS[command](*args)}
        except Exception:
            answer = {"error": traceback.format_exc()}
        close_old_connections()
        print(json.dumps(answer, default=str), flush=True)


def main(argv: list[str]) -> None:
    import django

    django.setup()
    if argv[0] == "serve":
        serve()
        return
    result = COMMANDS[argv[0]](*json.loads(argv[1] if len(argv) > 1 else "[]"))
    print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""The drain benchmark, `bench/engine.py --drain`: do the workers keep up with what the API accepts?

It talks to the engine only through the HTTP API, the database and real processes, so it measures any engine.
Three active workflows on `message.created` (customer messages), internal steps only: (a) add a tag; (b) set a
variable, then add a tag; (c) a condition, then set the priority — every message starts 3 runs.

Each round, on a deployment with no worker running: post N customer messages through
`POST /api/conversations/{id}/messages/` from 2 client threads (the acceptance rate A, messages/s); start the
`qcluster` processes and wait until all 3·N runs are finished (succeeded, failed, stopped or cancelled; a timeout
says how many were left). The drain rate R is runs / (last `finished_at` − first `finished_at`), read from the
database; keep-up = R / (3·A), ≥ 1 when the workers finish runs as fast as the API accepts messages. Then, with
the workers running, post N more (the posting rate with a worker draining; its ratio to A is taken within the
round) and wait for their runs (the lag after the last post). Deployments, in one run:
- embedded: SQLite (WAL) + django-q2 ORM broker, one `qcluster` with 2 workers (the default of `make run`);
- PostgreSQL + Redis, throwaway servers as the tests start them (tests/infra/servers.py), with 1 and with 2
  `qcluster` processes of 2 workers each, in alternating rounds on the same database.
Every figure is the median of the rounds. qcluster is stopped with SIGTERM to its main PID
(django-q2 hangs when its whole process group gets it).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from common import THREADS, Rate, Report, load_note, median, post_all, ratio, warm_up

from tests.infra.servers import ServiceUnavailable, start_postgres, start_redis
from tests.workflows.procs import Driver, Gunicorn, QCluster, migrate, project_env

RUNS_PER_MESSAGE = 3
MANAGERS_GROUP = "Support managers"
TRIGGER = {"type": "message.created", "config": {"sender_types": ["customer"]}}
WORKFLOWS = [
    {
        "name": "Tag new messages",
        "status": "active",
        "trigger": TRIGGER,
        "steps": [{"type": "add_tag", "config": {"tags": ["new-message"]}}],
    },
    {
        "name": "Remember the topic",
        "status": "active",
        "trigger": TRIGGER,
        "steps": [
            {"type": "set_variable", "config": {"name": "topic", "value": "{{ message.body }}"}},
            {"type": "add_tag", "config": {"tags": ["topic-seen"]}},
        ],
    },
    {
        "name": "Orders are urgent",
        "status": "active",
        "trigger": TRIGGER,
        "steps": [
            {
                "type": "condition",
                "on_false": "stop",
                "config": {"all": [{"field": "message.body", "op": "contains", "value": "order"}]},
            },
            {"type": "set_priority", "config": {"priority": "high"}},
        ],
    },
]
BODIES = [
    "Where is my order {n}?",
    "My order {n} arrived broken",
    "Please cancel order {n}",
    "Can I change the address of order {n}?",
    "The invoice of order {n} looks wrong",
]


@dataclass(frozen=True)
class DrainSizes:
    """How much work one run does: N messages per phase, rounds per deployment."""

    messages: int = 200
    conversations: int = 100
    rounds: int = 3
    warmup: int = 10
    timeout: float = 0  # seconds to wait for a drain; 0 = 60 s + 1 s per message

    @property
    def wait(self) -> float:
        return self.timeout or 60 + self.messages


QUICK = DrainSizes(messages=20, conversations=10, rounds=1, warmup=3)


class DrainTimeout(RuntimeError):
    """The runs of a phase did not all finish in time (the message says how many were left)."""


@dataclass
class Phase:
    """The runs of one phase, as the database tells them."""

    expected: int
    state: dict

    @property
    def runs_per_s(self) -> float | None:
        first, last = self.state["first_finished_at"], self.state["last_finished_at"]
        return self.state["finished"] / (last - first) if first is not None and last > first else None

    @property
    def not_succeeded(self) -> int:
        return self.state["finished"] - self.state["statuses"].get("succeeded", 0)


@dataclass
class Round:
    """One round: posting with no worker, the drain, posting with the workers draining, the lag behind it."""

    clusters: int
    idle: Rate
    drain: Phase
    started_workers_at: float
    busy: Rate
    live: Phase
    last_post_at: float

    @property
    def keep_up(self) -> float | None:
        return ratio(self.drain.runs_per_s, RUNS_PER_MESSAGE * self.idle.per_s)

    @property
    def drain_wall(self) -> float:
        return self.drain.state["last_finished_at"] - self.started_workers_at

    @property
    def lag(self) -> float:
        return self.live.state["last_finished_at"] - self.last_post_at

    def describe(self) -> str:
        return (
            f"  {self.clusters} qcluster: A {self.idle.per_s:6.1f} msg/s (p50 {self.idle.p50 * 1000:5.1f} ms)  "
            f"R {self.drain.runs_per_s or 0:6.1f} runs/s  keep-up {self.keep_up or 0:4.2f}  "
            f"workers start->drained {self.drain_wall:5.1f} s  posting while draining "
            f"{self.busy.per_s:6.1f} msg/s ({ratio(self.busy.per_s, self.idle.per_s) or 0:.2f}x)  "
            f"lag after last post {self.lag:5.1f} s"
            + (
                f"  [{self.drain.not_succeeded + self.live.not_succeeded} runs not succeeded]"
                if self.drain.not_succeeded + self.live.not_succeeded
                else ""
            )
        )


@dataclass
class Deployment:
    """One deployment under test: gunicorn serving it, the conversations to post to, its qcluster processes."""

    name: str
    env: dict[str, str]
    workdir: Path
    sizes: DrainSizes
    server: Gunicorn | None = None
    session: Driver | None = None  # one Django process for the database questions (no start-up per poll)
    token: str = ""
    conversation_ids: list[int] = field(default_factory=list)
    clusters: list[QCluster] = field(default_factory=list)
    posted: int = 0

    def prepare(self) -> Deployment:
        """Migrate, serve, and create the workflows, contacts and conversations through the API."""
        migrate(self.env)
        self.session = Driver(self.env)
        self.token = self.session.call("api_token", "bench-manager", MANAGERS_GROUP)["token"]
        self.server = Gunicorn(self.env, self.workdir / f"{self.name}-gunicorn.log").start(timeout=90)
        warm_up(self.server.base_url)
        post_all(self.server.base_url, self.token, [("/api/workflows/", definition) for definition in WORKFLOWS])
        contacts = max(1, self.sizes.conversations // 2)
        _, contact_ids = post_all(
            self.server.base_url,
            self.token,
            [
                ("/api/contacts/", {"name": f"Customer {n}", "email": f"customer{n}@example.com"})
                for n in range(contacts)
            ],
        )
        _, self.conversation_ids = post_all(
            self.server.base_url,
            self.token,
            [
                (
                    "/api/conversations/",
                    {"contact": contact_ids[n % contacts], "channel": "email", "subject": f"Order question {n}"},
                )
                for n in range(self.sizes.conversations)
            ],
        )
        return self

    def post_messages(self, count: int) -> Rate:
        """POST `count` customer messages spread over the conversations, from the client threads."""
        jobs = []
        for _ in range(count):
            self.posted += 1
            jobs.append(
                (
                    f"/api/conversations/{random.choice(self.conversation_ids)}/messages/",
                    {"body": random.choice(BODIES).format(n=self.posted), "sender_type": "customer"},
                )
            )
        rate, _ = post_all(self.server.base_url, self.token, jobs)
        return rate

    def start_workers(self, count: int) -> float:
        """Start `count` qcluster processes; return the wall-clock time they were started."""
        started = time.time()
        for index in range(count):
            log = self.workdir / f"{self.name}-qcluster-{index}.log"
            self.clusters.append(QCluster(self.env, log).start())
        return started

    def stop_workers(self) -> None:
        while self.clusters:
            self.clusters.pop().stop()

    def watermark(self) -> int:
        return self.session.call("run_watermark")["id"]

    def wait_for_runs(self, watermark: int, expected: int) -> Phase:
        """Block until the runs above `watermark` are all finished; DrainTimeout says how many were left."""
        state = self.session.call("wait_runs_finished", watermark, expected, self.sizes.wait)
        if state["timed_out"]:
            logs = "\n".join(cluster.log_tail(1500) for cluster in self.clusters)
            raise DrainTimeout(
                f"{self.name}: after {self.sizes.wait:.0f} s, {state['left']} of {expected} runs were "
                f"not finished ({state['runs']} created; by status {state['statuses']})\n{logs}"
            )
        return Phase(expected, state)

    def warm_up(self) -> None:
        """Post a few messages and drain them (and the conversations' own events) before anything is timed."""
        try:
            before = self.watermark()
            self.post_messages(self.sizes.warmup)
            self.start_workers(1)
            self.wait_for_runs(before, RUNS_PER_MESSAGE * self.sizes.warmup)
        finally:
            self.stop_workers()

    def round(self, clusters: int, messages: int) -> Round:
        """One measured round (see the module docstring); the workers are stopped at the end."""
        expected = RUNS_PER_MESSAGE * messages
        try:
            before = self.watermark()
            idle = self.post_messages(messages)
            started = self.start_workers(clusters)
            drain = self.wait_for_runs(before, expected)
            before = self.watermark()
            busy = self.post_messages(messages)
            last_post = time.time()
            live = self.wait_for_runs(before, expected)
        finally:
            self.stop_workers()
        return Round(clusters, idle, drain, started, busy, live, last_post)

    def stop(self) -> None:
        self.stop_workers()
        if self.server is not None:
            self.server.stop()
        if self.session is not None:
            self.session.close()


def measure(deployment: Deployment, plan: list[int]) -> list[Round]:
    """A warm-up, then one round per entry of `plan` (the number of qcluster processes of that round)."""
    deployment.warm_up()
    rounds = []
    for clusters in plan:
        rounds.append(deployment.round(clusters, deployment.sizes.messages))
        print(rounds[-1].describe(), flush=True)
    return rounds


def summarize(report: Report, label: str, rounds: list[Round]) -> float | None:
    """The medians of one deployment's rounds; returns its median R."""
    drain_rate = median(r.drain.runs_per_s for r in rounds)
    report.figure(f"{label}: A (messages/s accepted, no worker)", f"{median(r.idle.per_s for r in rounds):.1f}")
    report.figure(f"{label}: R (runs/s, first to last finished run)", f"{drain_rate or 0:.1f}")
    report.figure(f"{label}: workers started -> all runs finished", f"{median(r.drain_wall for r in rounds):.1f} s")
    report.figure(f"{label}: posting while the workers drain", f"{median(r.busy.per_s for r in rounds):.1f} msg/s")
    report.figure(f"{label}: last run finished after the last post", f"{median(r.lag for r in rounds):.1f} s")
    failed = sum(r.drain.not_succeeded + r.live.not_succeeded for r in rounds)
    if failed:
        report.figure(f"{label}: runs that did not succeed", str(failed))
    report.ratio(f"{label}: keep-up R / (3·A)", median(r.keep_up for r in rounds), note="1.0 = keeps up")
    report.ratio(
        f"{label}: posting with a worker draining vs none (same round)",
        median(ratio(r.busy.per_s, r.idle.per_s) for r in rounds),
        ">= 0.8",
    )
    report.raw[label] = [
        {
            "clusters": r.clusters,
            "A": r.idle.per_s,
            "A_p50_ms": r.idle.p50 * 1000,
            "R": r.drain.runs_per_s,
            "keep_up": r.keep_up,
            "drain_wall_s": r.drain_wall,
            "A_draining": r.busy.per_s,
            "lag_s": r.lag,
            "drain": r.drain.state,
            "live": r.live.state,
        }
        for r in rounds
    ]
    return drain_rate


def run_embedded(sizes: DrainSizes, workdir: Path, report: Report) -> float | None:
    env = project_env(
        sqlite_path=workdir / "embedded.sqlite3", MEDIA_ROOT=str(workdir / "media"), HELPDESK_SWEEP_SECONDS="15"
    )
    deployment = Deployment("embedded", env, workdir, sizes)
    try:
        rounds = measure(deployment.prepare(), [1] * sizes.rounds)
    finally:
        deployment.stop()
    return summarize(report, "SQLite + ORM broker, 1 qcluster", rounds)


def run_postgres_redis(sizes: DrainSizes, workdir: Path, report: Report) -> tuple[float | None, float | None] | None:
    """1 and 2 qcluster processes in alternating rounds (1,2 then 2,1 ...) on one throwaway PostgreSQL + Redis."""
    with ExitStack() as stack:
        try:
            postgres = start_postgres()
            stack.callback(postgres.stop)
            redis = start_redis()
            stack.callback(redis.stop)
        except ServiceUnavailable as exc:
            if os.environ.get("REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}:
                raise
            report.figure("PostgreSQL + Redis", f"skipped: {exc}")
            return None
        env = project_env(
            database_url=postgres.url,
            redis_url=redis.url,
            MEDIA_ROOT=str(workdir / "media"),
            HELPDESK_SWEEP_SECONDS="15",
        )
        deployment = Deployment("pg-redis", env, workdir, sizes)
        stack.callback(deployment.stop)
        plan = [clusters for n in range(sizes.rounds) for clusters in ((1, 2) if n % 2 == 0 else (2, 1))]
        rounds = measure(deployment.prepare(), plan)
    one, two = ([r for r in rounds if r.clusters == k] for k in (1, 2))
    rate_one = summarize(report, "PostgreSQL + Redis, 1 qcluster", one)
    rate_two = summarize(report, "PostgreSQL + Redis, 2 qcluster", two)
    report.ratio(
        "PG+Redis: R with 2 qcluster vs 1 (paired rounds)",
        median(ratio(b.drain.runs_per_s, a.drain.runs_per_s) for a, b in zip(one, two)),
    )
    return rate_one, rate_two


def main(sizes: DrainSizes, sqlite_only: bool = False) -> None:
    """Run every deployment (`sqlite_only`: the embedded one alone), print each figure and the ratios, and save them
    for RESULTS.md."""
    random.seed(3)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-drain-"))
    report = Report(
        "Engine drain: do the workers keep up with the API?",
        f"{sizes.messages} messages per phase (3 runs each) over {sizes.conversations} conversations, "
        f"{THREADS} client threads, gunicorn -w 2, {sizes.rounds} rounds per deployment"
        + (" (QUICK: figures mean nothing)" if sizes == QUICK else ""),
    )
    print(f"{report.setup}; {load_note()}", flush=True)
    try:
        embedded = run_embedded(sizes, workdir, report)
        scaled = None if sqlite_only else run_postgres_redis(sizes, workdir, report)
        if scaled is not None:
            report.ratio("R: PG+Redis 2 qcluster vs embedded", ratio(scaled[1], embedded))
            report.ratio("R: PG+Redis 1 qcluster vs embedded", ratio(scaled[0], embedded))
        report.figure("Total time of this bench", f"{time.perf_counter() - started:.0f} s")
        report.save("drain")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

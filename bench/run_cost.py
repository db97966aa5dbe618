"""CPU per workflow run, in-process and in a real `qcluster` (docs/operations.md "What a run costs").

`.venv/bin/python bench/run_cost.py` migrates a throwaway SQLite file, creates the drain benchmark's three workflows
(bench/drain.py: every customer message starts 3 runs of internal steps), records N customer messages through the
service layer with no worker running, then measures the CPU time it takes to dispatch them and finish every run:
- in-process: `drain_events` in this process (time.process_time around it; `--profile` prints a cProfile);
- qcluster (`--qcluster`): one `manage.py qcluster` (ORM broker, 2 workers) started on the same file after the
  messages are recorded, woken by one task; the CPU of its whole process tree (utime + stime from /proc) from
  start to the last finished run, minus the same cluster's idle CPU over as long (measured first).
It prints CPU per run in ms and the ratio qcluster / in-process. Only loopback traffic; the temp directory is deleted.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from common import Report, load_note
from drain import WORKFLOWS

from tests.workflows.procs import QCluster, project_env

FINISHED = ("succeeded", "failed", "stopped", "cancelled")
TICKS = os.sysconf("SC_CLK_TCK")


def setup(workdir: Path) -> dict[str, str]:
    """Point this process at a fresh database in `workdir`, migrate it and create the workflows."""
    env = project_env(
        sqlite_path=workdir / "runs.sqlite3", MEDIA_ROOT=str(workdir / "media"), HELPDESK_SWEEP_SECONDS="3600"
    )
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from workflows import services

    call_command("migrate", verbosity=0)
    for definition in WORKFLOWS:
        services.workflow_create(definition=definition)
    return env


def record_messages(count: int, conversations: int = 50, first: int = 0) -> None:
    """Customer messages recorded through the services with no wake-up (no worker is told), in new conversations."""
    from conversations import services
    from conversations.events import wakeups_suppressed
    from conversations.models import Event

    with wakeups_suppressed():
        opened = [
            services.conversation_open(
                contact=services.contact_create(name=f"C{n}", email=f"c{n}@example.com"),
                subject=f"Case {n}",
                channel="email",
            )
            for n in range(first, first + conversations)
        ]
        Event.objects.update(dispatched_at=time_now())  # the conversations' own events are not measured
        for n in range(count):
            services.message_create(
                conversation=opened[n % conversations], body=f"Where is my order {n}?", sender_type="customer"
            )


def warm_up() -> None:
    """A first small batch, not measured: what a worker pays once per process (Django's model metadata, the
    statements it compiles) is not a cost per run."""
    from workflows.engine import drain

    record_messages(5, conversations=5, first=90_000)
    drain.drain_events(None, budget_seconds=60)


def time_now():
    from conversations import clock

    return clock.now()


def runs_finished() -> tuple[int, int]:
    """(runs, runs finished), read from the database."""
    from django.db import close_old_connections

    from workflows.models import WorkflowRun

    close_old_connections()
    return WorkflowRun.objects.count(), WorkflowRun.objects.filter(status__in=FINISHED).count()


def in_process(profile: bool) -> dict:
    """Drain every recorded event in this process; CPU per run in ms."""
    from workflows.engine import drain

    before = runs_finished()[0]
    profiler = cProfile.Profile() if profile else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    drain.drain_events(None, budget_seconds=600)
    if profiler:
        profiler.disable()
    cpu = time.process_time() - started
    runs, finished = runs_finished()
    runs -= before
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    return {
        "runs": runs,
        "finished": finished - before,
        "cpu_s": cpu,
        "cpu_per_run_ms": cpu / max(runs, 1) * 1000,
        **drain_stats(drain),
    }


def drain_stats(drain) -> dict:
    """The claim figures of this process's drains (`workflows.engine.claims.stats`), where the engine has them."""
    try:
        from workflows.engine.claims import stats
    except ImportError:  # an engine from before claims
        return {}
    return {"batches": stats.batches, "claimed": stats.claimed, "lost_claims": stats.lost_claims}


def count_matched() -> list[int]:
    """Count the events every dispatch reads and matches (a redone batch counts again): [events matched]."""
    from workflows.engine import dispatcher

    counter, original = [0], dispatcher._match_batch

    def counting(events, reader):
        counter[0] += len(events)
        return original(events, reader)

    dispatcher._match_batch = counting
    return counter


def concurrent(workers: int) -> dict:
    """`workers` processes drain the recorded events at once; events matched in all, claims lost, CPU per run."""
    import multiprocessing

    from django.db import connections

    from conversations.models import Event

    since = time_now()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_drain_worker, args=(results,)) for _ in range(workers)]
    for process in processes:
        process.start()
    figures = [results.get(timeout=900) for _ in processes]
    for process in processes:
        process.join()
    runs = runs_finished()[0]
    events = Event.objects.filter(dispatched_at__gte=since).count()  # with those the runs recorded meanwhile
    matched = sum(figure["matched"] for figure in figures)
    return {
        "workers": workers,
        "events": events,
        "matched": matched,
        "redone": matched - events,
        "runs": runs,
        "cpu_per_run_ms": sum(figure["cpu_s"] for figure in figures) / max(runs, 1) * 1000,
        "batches": sum(figure.get("batches", 0) for figure in figures),
        "lost_claims": sum(figure.get("lost_claims", 0) for figure in figures),
    }


def _drain_worker(results) -> None:
    from workflows.engine import drain

    matched = count_matched()
    started = time.process_time()
    drain.drain_events(None, budget_seconds=600)
    results.put({"matched": matched[0], "cpu_s": time.process_time() - started, **drain_stats(drain)})


def idle_cpu_rate(pid: int, seconds: float = 5.0) -> float:
    """Wait until the cluster has started (its CPU falls under 50 ms/s), then its idle CPU per second."""
    for _ in range(60):
        before = tree_cpu(pid)
        time.sleep(1)
        if tree_cpu(pid) - before < 0.05:
            break
    before = tree_cpu(pid)
    time.sleep(seconds)
    return (tree_cpu(pid) - before) / seconds


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of a process and its live descendants (children's own counters)."""
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            for task in Path(f"/proc/{pid}/task").iterdir():
                children = (task / "children").read_text().split()
                pending += [int(child) for child in children]
        except OSError:
            continue
    return total


def _trickle(count: int, rate: float, first: int, conversations: int = 50) -> threading.Thread:
    """A thread recording `count` customer messages at `rate` per second, each waking a worker as the API does
    (at most one queue message per 0.2 s from this process)."""

    def record() -> None:
        from django.db import connection

        from conversations import services

        opened = [
            services.conversation_open(
                contact=services.contact_create(name=f"T{n}", email=f"t{n}@example.com"),
                subject=f"Trickle {n}",
                channel="email",
            )
            for n in range(first, first + conversations)
        ]
        started = time.monotonic()
        for n in range(count):
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
            services.message_create(
                conversation=opened[n % conversations], body=f"Where is my order {n}?", sender_type="customer"
            )
        connection.close()

    thread = threading.Thread(target=record)
    thread.start()
    return thread


def trickle_in_process(count: int, rate: float, first: int) -> dict:
    """Messages arrive at `rate` while this process drains after every wake-up window, as a woken worker would:
    the drain thread's CPU (time.thread_time) per run."""
    from conversations.events import wakeups_suppressed
    from workflows.engine import drain

    before = runs_finished()[0]
    with wakeups_suppressed():  # the recorder's wake-ups are this loop
        recorder = _trickle(count, rate, first)
        cpu = 0.0
        while True:
            started = time.thread_time()
            drain.drain_events(None, budget_seconds=30)
            cpu += time.thread_time() - started
            runs, finished = runs_finished()
            if not recorder.is_alive() and runs == finished and runs - before >= count * len(WORKFLOWS):
                break
            time.sleep(0.2)
    return {"runs": runs - before, "cpu_s": cpu, "cpu_per_run_ms": cpu / (runs - before) * 1000}


def trickle_qcluster(env: dict[str, str], workdir: Path, count: int, rate: float, first: int) -> dict:
    """Messages arrive at `rate` with a qcluster woken by them (ORM broker): its process tree's CPU per run, less
    its idle CPU over as long."""
    before = runs_finished()[0]
    expected = before + count * len(WORKFLOWS)
    with QCluster(env, workdir / "qcluster-trickle.log") as cluster:
        pid = cluster.process.pid
        idle_rate = idle_cpu_rate(pid)
        start_cpu, started = tree_cpu(pid), time.monotonic()
        recorder = _trickle(count, rate, first)
        while recorder.is_alive() or runs_finished() != (expected, expected):
            if time.monotonic() - started > 600:
                raise RuntimeError(f"the cluster did not finish: {runs_finished()}")
            time.sleep(0.05)
        wall = time.monotonic() - started
        cpu = tree_cpu(pid) - start_cpu - idle_rate * wall
    runs = expected - before
    return {
        "runs": runs,
        "cpu_s": cpu,
        "wall_s": wall,
        "idle_cpu_per_s": idle_rate,
        "cpu_per_run_ms": cpu / runs * 1000,
    }


def in_qcluster(env: dict[str, str], workdir: Path, backlog: Callable[[], int], idle_seconds: float = 5.0) -> dict:
    """Start a qcluster, measure its idle CPU, then record the backlog (`backlog()` returns the runs it will make),
    wake the cluster once and measure until every run finished. The backlog is recorded only once the cluster is
    up: a cluster's start-up sweep would otherwise take it during the idle measurement."""
    from django_q.tasks import async_task

    from conversations.conf import helpdesk_setting
    from conversations.models import Event

    with QCluster(env, workdir / "qcluster.log") as cluster:
        pid = cluster.process.pid
        idle_rate = idle_cpu_rate(pid, idle_seconds)
        before = runs_finished()[0]
        runs = backlog()
        expected = before + runs
        first = Event.objects.filter(dispatched_at__isnull=True).order_by("occurred_at").values_list("pk", flat=True)[0]
        start_cpu, started = tree_cpu(pid), time.monotonic()
        async_task(helpdesk_setting("EVENT_TASK"), str(first))
        while runs_finished() != (expected, expected):
            if time.monotonic() - started > 600:
                raise RuntimeError(f"the cluster did not finish: {runs_finished()}")
            time.sleep(0.05)
        wall = time.monotonic() - started
        cpu = tree_cpu(pid) - start_cpu - idle_rate * wall
    return {
        "runs": runs,
        "cpu_s": cpu,
        "wall_s": wall,
        "idle_cpu_per_s": idle_rate,
        "cpu_per_run_ms": cpu / runs * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    quick = os.environ.get("BENCH_QUICK") == "1"
    parser.add_argument(
        "--messages", type=int, default=30 if quick else 500, help="customer messages per measurement (3 runs each)"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the in-process drain")
    parser.add_argument("--qcluster", action="store_true", help="also measure in a real qcluster")
    parser.add_argument("--workers", type=int, default=0, help="also drain with this many processes at once")
    parser.add_argument(
        "--trickle",
        type=float,
        default=0,
        help="also measure with messages arriving at this rate (per s) while the drain runs",
    )
    args = parser.parse_args()
    report = Report(
        "CPU per workflow run",
        f"SQLite WAL, {args.messages:,} customer messages x 3 runs of internal steps per measurement; {load_note()}",
    )
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-runs-"))
    try:
        env = setup(workdir)
        warm_up()
        record_messages(args.messages)
        local = report.raw["in_process"] = in_process(args.profile)
        report.figure(
            "in-process",
            f"{local['runs']} runs, CPU per run {local['cpu_per_run_ms']:.2f} ms"
            + (f", {local['lost_claims']} claims lost in {local['batches']} batches" if "batches" in local else ""),
        )
        if args.workers:
            record_messages(args.messages, first=args.messages * 3)
            already = runs_finished()[0]
            shared = report.raw["concurrent"] = concurrent(args.workers)
            shared["runs"] -= already
            report.figure(
                f"{args.workers} drains at once",
                f"{shared['events']} events matched "
                f"{shared['matched']} times ({shared['redone']} redone), {shared['lost_claims']} claims "
                f"lost in {shared['batches']} batches",
            )
        if args.trickle:
            local_t = report.raw["trickle_in_process"] = trickle_in_process(args.messages, args.trickle, 10_000)
            report.figure(
                f"in-process, {args.trickle:g} messages/s arriving",
                f"{local_t['runs']} runs, CPU per run {local_t['cpu_per_run_ms']:.2f} ms",
            )
            if args.qcluster:
                cluster_t = report.raw["trickle_qcluster"] = trickle_qcluster(
                    env, workdir, args.messages, args.trickle, 20_000
                )
                report.figure(
                    f"qcluster, {args.trickle:g} messages/s arriving",
                    f"{cluster_t['runs']} runs, CPU per run {cluster_t['cpu_per_run_ms']:.2f} ms "
                    f"(idle cost {cluster_t['idle_cpu_per_s'] * 1000:.0f} ms/s subtracted)",
                )
                report.ratio(
                    "qcluster / in-process CPU per run, messages arriving",
                    cluster_t["cpu_per_run_ms"] / local_t["cpu_per_run_ms"],
                    "<= 1.3",
                )
        if args.qcluster:

            def backlog() -> int:
                record_messages(args.messages, first=args.messages)
                return local["runs"]

            cluster = report.raw["qcluster"] = in_qcluster(env, workdir, backlog)
            report.figure(
                "qcluster (1 cluster, 2 workers)",
                f"{cluster['runs']} runs, CPU per run {cluster['cpu_per_run_ms']:.2f} ms "
                f"(idle cost {cluster['idle_cpu_per_s'] * 1000:.0f} ms/s subtracted)",
            )
            report.ratio(
                "qcluster / in-process CPU per run", cluster["cpu_per_run_ms"] / local["cpu_per_run_ms"], "<= 1.3"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report.save("run_cost")


if __name__ == "__main__":
    main()

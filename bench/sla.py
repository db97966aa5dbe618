"""Benchmark of the SLA sweep: its time with 100 due targets among 1,000,000, and with none due.

One command, `.venv/bin/python bench/sla.py`: it makes a throwaway SQLite file in a temp dir (WAL, as `make run`
uses), migrates it, bulk-inserts 1,000 conversations and 1,000,000 SLA targets with `executemany` (a realistic mix:
half finished, met or breached; half running with due times spread over the next 30 days; 100 running and overdue),
then times `sla.sweep.run_sweep()` once with the 100 due (it claims them and writes 100 `sla.breached` events plus
their queue wake-ups) and then repeatedly with none due. Compass: < 50 ms on SQLite (issue 4). The sweep reads an
index range, so the 0-due figure should not move with the number of targets. Nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = int(os.environ.get("SLA_BENCH_TARGETS", 1_000_000))
DUE = 100
CONVERSATIONS = 1_000
BATCH = 50_000
EMPTY_RUNS = 20
COMPASS_MS = 50.0


def configure_django(workdir: Path) -> None:
    """Point this process at a fresh SQLite file and set Django up."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "SQLITE_PATH": str(workdir / "bench.sqlite3"),
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def create_conversations(now: dt.datetime) -> list[int]:
    """Conversations to hang targets on (bulk, no events: this measures the sweep, not the services)."""
    from conversations.models import Contact, Conversation

    contact = Contact.objects.create(name="Bench contact")
    Conversation.objects.bulk_create(
        [Conversation(contact=contact, channel="email", subject=f"Bench {n}") for n in range(CONVERSATIONS)],
        batch_size=1_000,
    )
    return list(Conversation.objects.values_list("pk", flat=True))


def stamp(moment: dt.datetime | None) -> str | None:
    """How Django stores an aware datetime in SQLite (naive UTC text), so index comparisons match the ORM's."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if moment else None


def target_rows(conversation_ids: list[int], now: dt.datetime):
    """1,000,000 rows: DUE overdue and running, the rest half running in the future, half finished."""
    rng = random.Random(4)
    metrics = ("first_response", "next_response", "resolution")
    for n in range(TARGETS):
        started = now - dt.timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        if n < DUE:
            state, due = "active", now - dt.timedelta(minutes=rng.randint(1, 30))
        elif n % 2:
            state, due = "active", now + dt.timedelta(minutes=rng.randint(15, 60 * 24 * 30))
        else:
            state, due = rng.choice(("met", "breached")), started + dt.timedelta(minutes=60)
        warning = due - dt.timedelta(minutes=10) if state == "active" and n >= DUE else None
        yield (
            conversation_ids[n % len(conversation_ids)],
            None,
            metrics[n % 3],
            state,
            3600,
            stamp(started),
            stamp(started),
            0.0,
            stamp(due),
            stamp(warning),
            None,
            0.0,
            warning is None and state == "active",
            stamp(due) if state == "met" else None,
            stamp(due) if state == "breached" else None,
            "",
        )


def insert_targets(conversation_ids: list[int], now: dt.datetime) -> float:
    """Bulk insert with executemany in batches; returns seconds taken."""
    from django.db import connection, transaction

    columns = (
        "conversation_id",
        "policy_id",
        "metric",
        "state",
        "target_seconds",
        "started_at",
        "resumed_at",
        "consumed_seconds",
        "due_at",
        "warning_at",
        "paused_at",
        "paused_seconds",
        "warned",
        "met_at",
        "breached_at",
        "claim_token",
    )
    sql = f"INSERT INTO sla_slatarget ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    started = time.perf_counter()
    rows, batch = target_rows(conversation_ids, now), []
    with transaction.atomic(), connection.cursor() as cursor:
        # Building the indexes once after the load is several times faster than maintaining them row by row.
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sla_slatarget' "
            "AND sql IS NOT NULL"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
        for _, create_sql in indexes:
            cursor.execute(create_sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def timed_sweep(now: dt.datetime):
    """One sweep; its time up to the commit (claims and event rows) and in all (commit and queue wake-ups)."""
    from django.db import transaction

    from sla.sweep import run_sweep

    started = time.perf_counter()
    with transaction.atomic():
        result = run_sweep(now=now)
        work_ms = (time.perf_counter() - started) * 1000
    return result, work_ms, (time.perf_counter() - started) * 1000


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="sla-bench-"))
    keep = os.environ.get("SLA_BENCH_KEEP") == "1"
    try:
        configure_django(workdir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        conversation_ids = create_conversations(now)
        seconds = insert_targets(conversation_ids, now)
        print(f"inserted {TARGETS:,} targets ({DUE} due) in {seconds:.1f} s")
        result, work_ms, total_ms = timed_sweep(now)
        print(
            f"sweep with {DUE} due: {work_ms:.1f} ms to claim and write the events, {total_ms:.1f} ms including "
            f"commit and the queue wake-up (one per batch) ({result.breaches} breaches, {result.warnings} warnings)"
        )
        empty = [timed_sweep(now)[2] for _ in range(EMPTY_RUNS)]
        print(
            f"sweep with 0 due: median {statistics.median(empty):.2f} ms, max {max(empty):.2f} ms "
            f"over {EMPTY_RUNS} runs (compass < {COMPASS_MS:.0f} ms)"
        )
    finally:
        if keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

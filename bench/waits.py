"""Benchmark of `wait_for` at scale (docs/managers.md): the cost of dispatching an event with 10,000 runs waiting on
OTHER conversations, against the same with none waiting. Target: a ratio of at most 1.2.

One command, `.venv/bin/python bench/waits.py`: a fresh SQLite file (WAL, the production settings) with one active
workflow on `message.created` (a `content_contains` filter the probe messages never pass, so the dispatcher matches
but starts nothing) and 20 probe conversations. WAITS_BENCH_WAITS (default 10,000; 1,000 with BENCH_QUICK) waiting
runs, each with its `RunWait` row on a conversation of its own, are bulk-inserted between the phases. Each phase posts
WAITS_BENCH_EVENTS customer messages on the probe conversations through `message_create` (not timed) and times
`dispatch_batch` of each event — the match of the awaited events included. The machine this runs on is shared and
its speed drifts, so the two cases are interleaved: ROUNDS rounds, each timing a slice of events with the waits
table full and a slice with it empty (the two tables are swapped by renaming, which SQLite does in constant time),
alternating which goes first; the ratio is of the medians. Nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUICK = bool(os.environ.get("BENCH_QUICK"))
WAITS = int(os.environ.get("WAITS_BENCH_WAITS", "1000" if QUICK else "10000"))
EVENTS = int(os.environ.get("WAITS_BENCH_EVENTS", "60" if QUICK else "300"))  # per case
ROUNDS = 10
PROBES = 20
TARGET = "<= 1.2"
WAITING = {
    "name": "Wait for the answer",
    "status": "active",
    "trigger": {"type": "conversation.created", "config": {}},
    "steps": [
        {
            "type": "wait_for",
            "config": {
                "event": "message.created",
                "filter": {"sender_types": ["customer"]},
                "timeout": {"days": 7},
                "save_as": "answer",
            },
        }
    ],
}
UNMATCHED = {
    "name": "Refunds",
    "status": "active",
    "trigger": {"type": "message.created", "config": {"content_contains": ["refund"]}},
    "steps": [{"type": "add_tag", "config": {"tags": ["refund"]}}],
}


def setup_django(database: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "SQLITE_PATH": str(database),
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def probes() -> list:
    from conversations import services

    contact = services.contact_create(name="Probe", email="probe@example.com")
    return [services.conversation_open(contact=contact, channel="email", subject=f"Probe {n}") for n in range(PROBES)]


def seed_waits(count: int) -> None:
    """`count` runs waiting at a `wait_for` step, each on a conversation of its own (bulk: seeding is not timed)."""
    from conversations import clock
    from conversations.models import Contact, Conversation, Event
    from workflows import services
    from workflows.models import RunWait, Workflow, WorkflowRun

    workflow = Workflow.objects.filter(name=WAITING["name"]).first() or services.workflow_create(definition=WAITING)
    now = clock.now()
    contact = Contact.objects.create(name="Waiting customer")
    conversations = Conversation.objects.bulk_create(
        [Conversation(contact=contact, channel="email", subject=f"Waiting {n}") for n in range(count)], batch_size=1000
    )
    events = Event.objects.bulk_create(
        [
            Event(
                id=uuid.uuid4(),
                type="conversation.created",
                conversation=conversation,
                occurred_at=now,
                dispatched_at=now,
                payload={},
            )
            for conversation in conversations
        ],
        batch_size=1000,
    )
    runs = WorkflowRun.objects.bulk_create(
        [
            WorkflowRun(
                workflow=workflow,
                version=workflow.version,
                event=event,
                conversation_id=event.conversation_id,
                status="waiting",
                position=0,
                resume_at=now + dt.timedelta(days=7),
            )
            for event in events
        ],
        batch_size=1000,
    )
    RunWait.objects.bulk_create(
        [
            RunWait(
                run=run,
                conversation_id=run.conversation_id,
                event_type="message.created",
                filter={"sender_types": ["customer"]},
                save_as="answer",
                since=now,
                deadline=run.resume_at,
            )
            for run in runs
        ],
        batch_size=1000,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def dispatch_times(conversations: list, count: int) -> list[float]:
    """Milliseconds of `dispatch_batch` for `count` fresh customer messages on the probe conversations."""
    from conversations import services
    from conversations.events import wakeups_suppressed
    from conversations.models import Event
    from workflows.engine.dispatcher import dispatch_batch

    times = []
    with wakeups_suppressed():
        for n in range(count):
            message = services.message_create(
                conversation=conversations[n % len(conversations)],
                body=f"Where is my parcel {n}?",
                sender_type="customer",
            )
            event = Event.objects.get(type="message.created", payload__message_id=message.pk)
            started = time.perf_counter()
            dispatch_batch([event.pk])
            times.append((time.perf_counter() - started) * 1000)
    return times


def make_empty_twin() -> None:
    """An empty copy of the waits table with the same lookup index, to swap in for the "none waiting" case."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE workflows_runwait_twin AS SELECT * FROM workflows_runwait WHERE 0")
        cursor.execute("CREATE INDEX run_wait_lookup_twin ON workflows_runwait_twin (conversation_id, event_type)")


def swap_waits_tables() -> None:
    """Swap the full and the empty waits tables (constant time in SQLite: renames only)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE workflows_runwait RENAME TO workflows_runwait_swap")
        cursor.execute("ALTER TABLE workflows_runwait_twin RENAME TO workflows_runwait")
        cursor.execute("ALTER TABLE workflows_runwait_swap RENAME TO workflows_runwait_twin")


def interleaved(conversations: list) -> tuple[list[float], list[float]]:
    """Times with the waits table empty and full, ROUNDS rounds of EVENTS // ROUNDS events each, order alternating.
    The full table is in place when called and when it returns."""
    from workflows.models import RunWait

    empty, loaded, per_round = [], [], max(1, EVENTS // ROUNDS)
    for number in range(ROUNDS):
        for case in ("loaded", "empty") if number % 2 else ("empty", "loaded"):
            if case == "empty":
                swap_waits_tables()
                assert not RunWait.objects.exists()
                empty += dispatch_times(conversations, per_round)
                swap_waits_tables()
            else:
                loaded += dispatch_times(conversations, per_round)
    return empty, loaded


def main() -> int:
    from common import Report, load_note

    with tempfile.TemporaryDirectory(prefix="waits-bench-") as directory:
        setup_django(Path(directory) / "bench.sqlite3")
        from workflows import services
        from workflows.models import RunWait

        services.workflow_create(definition=UNMATCHED)
        conversations = probes()
        seeded_at = time.perf_counter()
        seed_waits(WAITS)
        seeding = time.perf_counter() - seeded_at
        make_empty_twin()
        dispatch_times(conversations, 10)  # warm-up: caches, prepared statements
        empty, loaded = interleaved(conversations)
        waiting_left = RunWait.objects.count()
        plan = RunWait.objects.filter(
            conversation_id__in=[conversations[0].pk], event_type__in=["message.created"]
        ).explain()
    baseline, with_waits = statistics.median(empty), statistics.median(loaded)
    report = Report(
        "Waiting runs (wait_for) and the cost of an event",
        setup=f"SQLite (WAL), {WAITS:,} runs waiting on other conversations, {EVENTS} events per case "
        f"in {ROUNDS} interleaved rounds, "
        f"one active message.created workflow that matches none; {load_note()}",
    )
    report.figure("dispatch of one event, none waiting (median)", f"{baseline:.2f} ms")
    report.figure(f"dispatch of one event, {WAITS:,} waiting elsewhere (median)", f"{with_waits:.2f} ms")
    report.figure(
        "p90 none / waiting",
        f"{sorted(empty)[int(len(empty) * 0.9)]:.2f} ms / {sorted(loaded)[int(len(loaded) * 0.9)]:.2f} ms",
    )
    report.figure(
        "seeding the waits (not timed above)",
        f"{seeding:.1f} s; waits still waiting after the measurement: {waiting_left:,}",
    )
    report.figure("query plan of the waits lookup", " ".join(plan.split()))
    report.ratio(f"event dispatch with {WAITS:,} waits elsewhere / with none", with_waits / baseline, TARGET)
    report.save("waits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

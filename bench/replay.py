"""Benchmark of the replay ("try on history", docs/managers.md): how long 10,000 recorded events take to replay.

One command, `.venv/bin/python bench/replay.py`: a fresh SQLite file (WAL, the production settings) gets
REPLAY_BENCH_CONVERSATIONS conversations and REPLAY_BENCH_EVENTS recorded `message.created` events spread over the
past year (messages and events bulk-inserted as the services record them, so seeding is not what is timed). One
workflow — customer messages that mention a refund or a cancellation (about 40% of them), then a VIP condition, a
tag, an `http_request`, a `send_email` and a priority change — is replayed over the year with the chunk task's body
run in-process one chunk after the other (`replay_run_chunk`, as a worker runs it, without the queue round trip).
It prints the time to done, the CPU time it took, events per second, the figures of the replay and the chunk count; the target is under
a minute on 2 cores.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EVENTS = int(os.environ.get("REPLAY_BENCH_EVENTS", "1000" if os.environ.get("BENCH_QUICK") else "10000"))
CONVERSATIONS = int(os.environ.get("REPLAY_BENCH_CONVERSATIONS", "500"))
TARGET_SECONDS = 60
BODIES = [
    "I want a refund for order {n}",
    "Please cancel my plan {n}",
    "Where is my parcel {n}?",
    "My invoice {n} looks wrong",
    "How do I change my address ({n})?",
]
DEFINITION = {
    "name": "Refunds and cancellations",
    "status": "active",
    "trigger": {
        "type": "message.created",
        "config": {"sender_types": ["customer"], "content_contains": ["refund", "cancel"]},
    },
    "steps": [
        {
            "type": "condition",
            "on_false": "continue",
            "config": {"all": [{"field": "contact.attributes.vip", "op": "eq", "value": True}]},
        },
        {"type": "add_tag", "config": {"tags": ["retention"]}},
        {
            "type": "http_request",
            "config": {
                "url": "http://127.0.0.1:9/crm",
                "method": "POST",
                "values": [{"key": "name", "value": "{{ contact.name }}"}],
            },
        },
        {"type": "send_email", "config": {"subject": "About your request", "body": "Hi {{ contact.name }}"}},
        {"type": "set_priority", "config": {"priority": "high"}},
    ],
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


def seed(now: dt.datetime) -> None:
    """Conversations through the services; their messages and `message.created` events bulk-inserted."""
    from conversations import services
    from conversations.models import Conversation, Event, Message

    rng = random.Random(13)
    for n in range(CONVERSATIONS):
        contact = services.contact_create(
            name=f"Customer {n}", email=f"c{n}@example.com", attributes={"vip": n % 5 == 0}
        )
        services.conversation_open(contact=contact, channel="live_chat", subject=f"Question {n}")
    conversations = list(Conversation.objects.values_list("pk", flat=True))
    messages = [
        Message(conversation_id=rng.choice(conversations), sender_type="customer", body=rng.choice(BODIES).format(n=n))
        for n in range(EVENTS)
    ]
    Message.objects.bulk_create(messages, batch_size=1000)
    year = dt.timedelta(days=365).total_seconds()
    events = [
        Event(
            id=uuid.uuid4(),
            type="message.created",
            conversation_id=message.conversation_id,
            occurred_at=now - dt.timedelta(seconds=rng.uniform(0, year)),
            dispatched_at=now,
            payload={
                "message_id": message.pk,
                "sender_type": "customer",
                "internal": False,
                "channel": "live_chat",
                "sentiment": 0.5,
            },
        )
        for message in messages
    ]
    Event.objects.bulk_create(events, batch_size=1000)


def replay_year(now: dt.datetime) -> tuple[float, float, object]:
    """Start the replay and run its chunks one after the other; (seconds to done, CPU seconds of this process, the
    finished replay). On a shared machine the CPU time is the steadier figure."""
    from workflows import services
    from workflows.engine import replay
    from workflows.models import WorkflowReplay

    workflow = services.workflow_create(definition=DEFINITION)
    started, cpu = time.perf_counter(), time.process_time()
    row = replay.replay_start(workflow=workflow, since=now - dt.timedelta(days=366), until=now)
    while replay.replay_process_chunk(row.pk):
        pass
    return time.perf_counter() - started, time.process_time() - cpu, WorkflowReplay.objects.get(pk=row.pk)


def main() -> int:
    from common import Report, load_note

    with tempfile.TemporaryDirectory(prefix="replay-bench-") as directory:
        setup_django(Path(directory) / "bench.sqlite3")
        from conversations import clock

        now = clock.now()
        seed(now)
        seconds, cpu, done = replay_year(now)
    report = Report(
        "Replay (try on history)",
        setup=f"SQLite (WAL), {EVENTS:,} recorded message.created events "
        f"over a year on {CONVERSATIONS} conversations, chunks run in-process; {load_note()}",
    )
    report.figure("time to done", f"{seconds:.1f} s (target under {TARGET_SECONDS} s)")
    report.figure(
        "CPU time of the replaying process", f"{cpu:.1f} s ({cpu * 1000 / max(done.done, 1):.2f} ms per event)"
    )
    report.figure("events per second", f"{done.done / seconds:,.0f}")
    report.figure("status / progress", f"{done.status}, {done.done:,} of {done.total:,} in {done.chunks} chunks")
    report.figure("matched / would start", f"{done.matched:,} / {done.would_start:,}")
    report.figure("by outcome", ", ".join(f"{key} {value:,}" for key, value in done.by_outcome.items()))
    report.ratio("replay seconds for 10k events / 60 s", seconds * 10_000 / max(EVENTS, 1) / TARGET_SECONDS, "<= 1")
    report.save("replay")
    return 0 if done.status == "done" else 1


if __name__ == "__main__":
    sys.exit(main())

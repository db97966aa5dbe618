"""Benchmark of the retention sweep (`HELPDESK_RETENTION_DAYS`): how fast closed conversations past the retention
period are erased, in a table of 1,000,000 conversations.

One command, `.venv/bin/python bench/retention.py`: a throwaway SQLite file (WAL, as `make run` uses), migrated;
RETENTION_BENCH_TOTAL conversations (default 1,000,000; `make bench QUICK=1`: 20,000) bulk-inserted, of which
RETENTION_BENCH_EXPIRED (default 20,000; quick 2,000) are closed long ago, spread over contacts 4 each, with two
messages and one event each (what the sweep rewrites). Then `erase_expired_conversations()` (what the sweep calls,
500 per call) runs until nothing is left; it prints the time per call (first, median, last: the last calls must not
be slower than the first, i.e. the scan does not grow as erased rows pile up), the conversations erased per second,
and what that means for 1,000,000 expired conversations (work time, and calendar time at one call per sweep
interval). It checks that every expired conversation was erased and no other one. Nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUICK = os.environ.get("BENCH_QUICK") == "1"
TOTAL = int(os.environ.get("RETENTION_BENCH_TOTAL", 20_000 if QUICK else 1_000_000))
EXPIRED = int(os.environ.get("RETENTION_BENCH_EXPIRED", 2_000 if QUICK else 20_000))
PER_CONTACT = 4
INSERT_BATCH = 5_000
RETENTION_DAYS = 30


def configure_django(workdir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "SQLITE_PATH": str(workdir / "bench.sqlite3"),
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def seed(now: dt.datetime) -> None:
    """TOTAL conversations, the first EXPIRED closed 90 days ago with two messages and one event each; the rest
    open or recently closed (bulk inserts: this measures the sweep, not the services)."""
    from conversations.models import Contact, Conversation, Event, Message

    contacts = Contact.objects.bulk_create(
        [
            Contact(name=f"Customer {n}", email=f"customer{n}@example.com", phone="")
            for n in range(max(1, EXPIRED // PER_CONTACT) + 1)
        ],
        batch_size=INSERT_BATCH,
    )
    other = contacts[-1]
    for start in range(0, TOTAL, INSERT_BATCH):
        rows = []
        for n in range(start, min(TOTAL, start + INSERT_BATCH)):
            expired = n < EXPIRED
            rows.append(
                Conversation(
                    contact=contacts[n // PER_CONTACT] if expired else other,
                    channel="email",
                    subject=f"Order {n} for customer{n}@example.com",
                    status="closed" if expired or n % 3 == 0 else "open",
                )
            )
        Conversation.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    old = now - dt.timedelta(days=90)
    expired_ids = list(Conversation.objects.order_by("pk").values_list("pk", flat=True)[:EXPIRED])
    Conversation.objects.filter(pk__in=expired_ids).update(updated_at=old)
    Conversation.objects.exclude(pk__in=expired_ids).update(updated_at=now)
    for start in range(0, len(expired_ids), INSERT_BATCH):
        chunk = expired_ids[start : start + INSERT_BATCH]
        Message.objects.bulk_create(
            [
                Message(conversation_id=pk, sender_type=kind, body=f"Message {kind} of {pk}")
                for pk in chunk
                for kind in ("customer", "agent")
            ],
            batch_size=INSERT_BATCH,
        )
        Event.objects.bulk_create(
            [
                Event(
                    type="message.created",
                    occurred_at=old,
                    conversation_id=pk,
                    payload={"body": f"Message customer of {pk}"},
                    dispatched_at=old,
                )
                for pk in chunk
            ],
            batch_size=INSERT_BATCH,
        )


def sweep_until_done() -> list[tuple[float, int]]:
    """(seconds, erased) of each call of the retention sweep until a call erases nothing."""
    from django.test.utils import override_settings

    from workflows.privacy.erase import erase_expired_conversations

    calls = []
    with override_settings(HELPDESK_RETENTION_DAYS=RETENTION_DAYS):
        while True:
            started = time.perf_counter()
            erased = erase_expired_conversations()
            calls.append((time.perf_counter() - started, erased))
            if not erased:
                return calls


def check(expected: int) -> None:
    from conversations.models import Conversation

    erased = Conversation.objects.filter(erased_at__isnull=False).count()
    assert erased == expected, f"{erased} conversations erased, expected {expected}"


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="retention-bench-"))
    try:
        configure_django(workdir)
        from django.core.management import call_command

        from conversations import clock

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(clock.now())
        print(f"seeded {TOTAL:,} conversations ({EXPIRED:,} expired) in {time.perf_counter() - started:.1f} s")
        calls = sweep_until_done()
        check(EXPIRED)
        report(calls)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(calls: list[tuple[float, int]]) -> None:
    from bench.common import Report
    from conversations.conf import helpdesk_setting

    working = [(seconds, erased) for seconds, erased in calls if erased]
    work = sum(seconds for seconds, _ in working)
    rate = EXPIRED / work if work else 0.0
    per_call = [seconds * 1000 for seconds, _ in working]
    interval = helpdesk_setting("SWEEP_SECONDS")
    batch = max(erased for _, erased in working)
    out = Report(
        "Retention sweep",
        setup=f"SQLite (WAL), {TOTAL:,} conversations, {EXPIRED:,} expired "
        f"(2 messages and 1 event each, 4 per contact)",
    )
    out.figure("calls of the sweep", f"{len(working)} of up to {batch}")
    out.figure(
        "time per call",
        f"first {per_call[0]:.0f} ms, median {statistics.median(per_call):.0f} ms, "
        f"last {per_call[-1]:.0f} ms; nothing left: {calls[-1][0] * 1000:.1f} ms",
    )
    out.figure("erased per second of sweep work", f"{rate:,.0f} conversations")
    if rate:
        out.figure(
            "1,000,000 expired conversations",
            f"{1_000_000 / rate / 60:.1f} min of work, spread over "
            f"{-(-1_000_000 // batch) * interval / 3600:.1f} h at one "
            f"call per {interval} s sweep",
        )
    out.ratio(
        "last call / first call", per_call[-1] / per_call[0], "<= 1.5", "the scan does not grow as erased rows pile up"
    )
    out.raw = {"per_call_ms": per_call, "erased_per_s": rate, "total": TOTAL, "expired": EXPIRED}
    out.save("retention")


if __name__ == "__main__":
    main()

"""Benchmark of the conversations REST API against its peers: creation over HTTP and the list page at 100k rows.

One command, `.venv/bin/python bench/api.py` (`--quick` for a smoke run, whose figures mean nothing). Three
projects are served the same way — gunicorn -w 2 on a free loopback port, SQLite in WAL mode, 2 client threads:
ours (a throwaway database in a temp dir), django-helpdesk 2.6.1 (installed by bench/peer.py into the git-ignored
.bench-cache/) and a bare DRF project doing one INSERT per create (the floor). In each of 3 rounds, one after the
other: N conversations, N bare rows and N helpdesk tickets are created through the APIs, then a customer message on
each of our conversations and a follow-up on each helpdesk ticket; every figure is the median of the rounds and every
ratio is taken within a round, then the median. Then our conversations are bulk-inserted up to 10k and 100k rows
(the first page, a filtered page and a search page are timed at each size), and the bare project and django-helpdesk
are bulk-filled to the same 100k and their list pages timed too. Queries per request are counted in-process with
`CaptureQueriesContext`. Everything is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from common import Rate, Report, load_note, median, post_all, ratio, time_gets, warm_up
from peer import PeerProject, bare_peer, helpdesk_peer

from tests.workflows.procs import Gunicorn, project_env

BATCH = 5_000
FILTERED_QUERY = "status=open,pending&channel=email&priority=high"
SEARCH_QUERY = "search=invoice"


@dataclass(frozen=True)
class Sizes:
    """How much work one bench run does."""

    per_round: int = 500  # conversations (and messages, bare rows, tickets, follow-ups) created per round
    rounds: int = 3
    contacts: int = 200
    list_sizes: tuple[int, ...] = (10_000, 100_000)
    list_requests: int = 40
    helpdesk_list_requests: int = 3  # each one reads every ticket: about 30 s at 100k on a quiet 2-core machine


QUICK = Sizes(per_round=40, rounds=1, contacts=10, list_sizes=(500, 1_000), list_requests=6, helpdesk_list_requests=1)


def parse_sizes(argv: list[str] | None = None) -> Sizes:
    """Default sizes, or smaller ones for a smoke run (`--quick`, `BENCH_QUICK=1`, or explicit numbers)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK") == "1",
        help="a smoke run: 1 round of 40 creations, lists at 500 and 1,000 rows",
    )
    parser.add_argument("--per-round", type=int, help="creations of each kind per round (default 500)")
    parser.add_argument("--rounds", type=int, help="rounds of creations (default 3)")
    parser.add_argument("--sizes", help="comma-separated row counts the list pages are timed at (default 10000,100000)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.per_round:
        sizes = replace(sizes, per_round=args.per_round, contacts=min(sizes.contacts, args.per_round))
    if args.rounds:
        sizes = replace(sizes, rounds=args.rounds)
    if args.sizes:
        sizes = replace(sizes, list_sizes=tuple(sorted(int(part) for part in args.sizes.split(",") if part.strip())))
    return sizes


def configure_django(workdir: Path) -> dict[str, str]:
    """Point this process (and, through the returned env, gunicorn) at a fresh SQLite file and set Django up."""
    env = project_env(sqlite_path=workdir / "bench.sqlite3", MEDIA_ROOT=str(workdir / "media"))
    os.environ.update(env)
    import django

    django.setup()
    return env


def create_agent_token() -> str:
    """Migrate and create an agent (role `Agents`) with an API token."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from conversations.roles import AGENTS_GROUP

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench-agent", password="bench-agent-pw", is_staff=True)
    user.groups.add(Group.objects.get(name=AGENTS_GROUP))
    return Token.objects.create(user=user).key


@dataclass
class Servers:
    """The three projects under test, each with the base URL and token a client needs."""

    ours: str
    token: str
    bare: PeerProject
    bare_token: str
    helpdesk: PeerProject
    helpdesk_setup: dict


def create_contacts(servers: Servers, count: int) -> list[int]:
    _, ids = post_all(
        servers.ours,
        servers.token,
        [
            (
                "/api/contacts/",
                {
                    "name": f"Customer {n}",
                    "email": f"customer{n}@example.com",
                    "segment": random.choice(["smb", "vip"]),
                },
            )
            for n in range(count)
        ],
    )
    return ids


def creation_round(servers: Servers, contact_ids: list[int], count: int, offset: int) -> dict[str, Rate]:
    """One round: each project creates `count` rows through its API, then ours and django-helpdesk add one message
    (follow-up) to each; the kinds run one after the other, so each has the machine to itself."""
    channels, priorities = ["email", "live_chat", "whatsapp", "web"], ["low", "normal", "high", "urgent"]
    numbers = range(offset, offset + count)
    conversations, conversation_ids = post_all(
        servers.ours,
        servers.token,
        [
            (
                "/api/conversations/",
                {
                    "contact": random.choice(contact_ids),
                    "channel": random.choice(channels),
                    "subject": f"Order {n} question",
                    "priority": random.choice(priorities),
                },
            )
            for n in numbers
        ],
    )
    bare, _ = post_all(
        servers.bare.base_url,
        servers.bare_token,
        [("/items/", {"title": f"Order {n} question", "status": "open", "priority": "normal"}) for n in numbers],
    )
    setup = servers.helpdesk_setup
    tickets, ticket_ids = post_all(
        servers.helpdesk.base_url,
        setup["token"],
        [
            (
                "/api/tickets/",
                {
                    "queue": setup["queue"],
                    "title": f"Order {n} question",
                    "priority": 3,
                    "description": "Hello, my invoice looks wrong",
                    "submitter_email": f"c{n}@example.com",
                },
            )
            for n in numbers
        ],
    )
    messages, _ = post_all(
        servers.ours,
        servers.token,
        [
            (
                f"/api/conversations/{cid}/messages/",
                {"body": f"Hello, my invoice {cid} looks wrong", "sender_type": "customer"},
            )
            for cid in conversation_ids
        ],
    )
    followups, _ = post_all(
        servers.helpdesk.base_url,
        setup["token"],
        [
            ("/api/followups/", {"ticket": tid, "user": setup["user"], "comment": "Any news on this?", "public": True})
            for tid in ticket_ids
        ],
    )
    return {
        "conversations": conversations,
        "bare": bare,
        "tickets": tickets,
        "messages": messages,
        "followups": followups,
    }


def report_creation(report: Report, rounds: list[dict[str, Rate]]) -> None:
    """Median rates over the rounds, and the ratios taken within each round."""
    labels = {
        "conversations": "POST /api/conversations/ (ours)",
        "messages": "POST .../messages/ (ours)",
        "bare": "POST /items/ (bare DRF, one INSERT)",
        "tickets": "POST /api/tickets/ (django-helpdesk)",
        "followups": "POST /api/followups/ (django-helpdesk)",
    }
    for key, label in labels.items():
        rates = [row[key] for row in rounds]
        report.figure(
            label,
            f"{median(r.per_s for r in rates):.1f}/s (p50 {median(r.p50 for r in rates) * 1000:.1f} "
            f"ms, p95 {median(r.p95 for r in rates) * 1000:.1f} ms; rounds: "
            + ", ".join(f"{r.per_s:.0f}" for r in rates)
            + ")",
        )
        report.raw[key] = [r.figures() for r in rates]

    def paired(numerator: str, denominator: str) -> float | None:
        return median(ratio(row[numerator].per_s, row[denominator].per_s) for row in rounds)

    report.ratio("conversation create vs bare DRF one-INSERT create", paired("conversations", "bare"), ">= 0.8")
    report.ratio("message create vs bare DRF one-INSERT create", paired("messages", "bare"), ">= 0.8")
    report.ratio("conversation create vs django-helpdesk ticket create", paired("conversations", "tickets"))
    report.ratio("message create vs django-helpdesk follow-up create", paired("messages", "followups"))


def bulk_fill(target: int) -> float:
    """Insert conversations (one message each, some tagged) with the ORM until there are `target`; return seconds."""
    from conversations.models import Contact, Conversation, Message, Tag

    started = time.perf_counter()
    created_at = Conversation._meta.get_field("created_at")
    created_at.auto_now_add = False  # older rows get older timestamps, as a real history would
    try:
        contact_ids = list(Contact.objects.values_list("id", flat=True))
        vip, billing = (Tag.objects.get_or_create(name=name)[0] for name in ("vip", "billing"))
        oldest = Conversation.objects.order_by("created_at").values_list("created_at", flat=True).first()
        existing = Conversation.objects.count()
        while existing < target:
            count = min(BATCH, target - existing)
            insert_batch(count, existing, oldest, contact_ids, (vip, billing), (Conversation, Message))
            existing += count
    finally:
        created_at.auto_now_add = True
    return time.perf_counter() - started


def insert_batch(count: int, offset: int, oldest, contact_ids: list[int], tags: tuple, models: tuple) -> None:
    from django.db import transaction

    Conversation, Message = models
    statuses = ["new", "open", "pending", "on_hold", "resolved", "closed"]
    with transaction.atomic():
        rows = Conversation.objects.bulk_create(
            Conversation(
                contact_id=random.choice(contact_ids),
                channel=random.choice(["email", "live_chat", "sms"]),
                subject=f"Old case {offset + n}",
                status=random.choice(statuses),
                priority=random.choice(["low", "normal", "high", "urgent"]),
                created_at=oldest - timedelta(minutes=offset + n + 1),
            )
            for n in range(count)
        )
        Message.objects.bulk_create(
            Message(
                conversation_id=row.pk,
                sender_type="customer",
                body=random.choice(["My invoice is wrong", "Cannot log in", "Where is my parcel?"]),
            )
            for row in rows
        )
        through = Conversation.tags.through
        through.objects.bulk_create(
            through(conversation_id=row.pk, tag_id=tags[n % 2].pk) for n, row in enumerate(rows) if n % 10 < 2
        )


def time_lists(base: str, token: str, requests_per_page: int) -> dict[str, Rate]:
    """Time the first page, a filtered page and a search page of our conversations."""
    rates = {}
    for label, query in (("first page", ""), ("filtered page", FILTERED_QUERY), ("search page", SEARCH_QUERY)):
        rates[label] = time_gets(f"{base}/api/conversations/?{query}", token, requests_per_page)
        print("  " + rates[label].describe(f"GET {label}"), flush=True)
    return rates


def time_peer_lists(servers: Servers, size: int, sizes: Sizes) -> tuple[Rate, Rate]:
    """Bulk-fill the bare project and django-helpdesk to `size` rows and time their first list page."""
    started = time.perf_counter()
    servers.bare.tool("seed", size)
    servers.helpdesk.tool("seed", size, servers.helpdesk_setup["queue"])
    print(
        f"Bulk insert of {size:,} bare rows and {size:,} django-helpdesk tickets: "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    bare = time_gets(f"{servers.bare.base_url}/items/", servers.bare_token, sizes.list_requests)
    helpdesk = time_gets(
        f"{servers.helpdesk.base_url}/api/tickets/",
        servers.helpdesk_setup["token"],
        sizes.helpdesk_list_requests,
        threads=1,
        warm=False,
    )
    return bare, helpdesk


def count_queries(token: str) -> dict[str, int]:
    """Queries per request of each kind, counted in-process with the test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from conversations.models import Contact

    client = Client(headers={"Authorization": f"Token {token}"})
    contact_id = Contact.objects.values_list("id", flat=True).first()
    created = {}
    requests_to_count = [
        (
            "POST conversation",
            lambda: created.setdefault(
                "c",
                client.post(
                    "/api/conversations/",
                    {"contact": contact_id, "channel": "email", "subject": "Counted"},
                    content_type="application/json",
                ),
            ),
        ),
        (
            "POST message",
            lambda: client.post(
                f"/api/conversations/{created['c'].json()['id']}/messages/",
                {"body": "Counted message", "sender_type": "customer"},
                content_type="application/json",
            ),
        ),
        ("GET first page", lambda: client.get("/api/conversations/")),
        ("GET filtered page", lambda: client.get(f"/api/conversations/?{FILTERED_QUERY}")),
        ("GET search page", lambda: client.get(f"/api/conversations/?{SEARCH_QUERY}")),
    ]
    counts = {}
    for label, make_request in requests_to_count:
        with CaptureQueriesContext(connection) as captured:
            response = make_request()
        assert response.status_code in (200, 201), (label, response.status_code)
        counts[label] = len(captured.captured_queries)
    return counts


def measure(servers: Servers, sizes: Sizes, report: Report) -> None:
    """Creation rounds, then the lists at each size, then the query counts."""
    contact_ids = create_contacts(servers, sizes.contacts)
    rounds = [creation_round(servers, contact_ids, sizes.per_round, n * sizes.per_round) for n in range(sizes.rounds)]
    report_creation(report, rounds)
    ours: dict[str, Rate] = {}
    for size in sizes.list_sizes:
        print(f"Bulk insert up to {size:,} conversations: {bulk_fill(size):.1f} s", flush=True)
        ours = time_lists(servers.ours, servers.token, sizes.list_requests)
        report.raw[f"lists_{size}"] = {label: rate.figures() for label, rate in ours.items()}
        report.figure(
            f"Our list pages at {size:,} conversations (p50)",
            ", ".join(f"{label} {rate.p50 * 1000:.1f} ms" for label, rate in ours.items()),
        )
    largest = sizes.list_sizes[-1]
    bare, helpdesk = time_peer_lists(servers, largest, sizes)
    report.figure(f"Bare DRF list page at {largest:,} rows (p50)", f"{bare.p50 * 1000:.1f} ms")
    report.figure(
        f"django-helpdesk ticket list page at {largest:,} tickets (median of {helpdesk.count})", f"{helpdesk.p50:.2f} s"
    )
    report.raw.update(bare_list=bare.figures(), helpdesk_list=helpdesk.figures())
    report.ratio(f"first list page at {largest:,} rows vs bare list", ratio(ours["first page"].p50, bare.p50), "<= 1.5")
    report.ratio(
        f"django-helpdesk list page vs ours at {largest:,} (times slower)", ratio(helpdesk.p50, ours["first page"].p50)
    )
    counts = count_queries(servers.token)
    report.figure("SQL queries per request (ours)", ", ".join(f"{label} {n}" for label, n in counts.items()))


def start_peer(peer: PeerProject) -> dict:
    setup = peer.prepare()
    peer.start()
    return setup


def main(argv: list[str] | None = None) -> None:
    sizes = parse_sizes(argv)
    random.seed(7)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-api-"))
    peers: list[PeerProject] = []
    server = None
    try:
        env = configure_django(workdir)
        token = create_agent_token()
        server = Gunicorn(env, workdir / "gunicorn.log").start(timeout=90)
        warm_up(server.base_url)
        bare, helpdesk = bare_peer(workdir), helpdesk_peer(workdir)
        peers = [bare, helpdesk]
        servers = Servers(server.base_url, token, bare, start_peer(bare)["token"], helpdesk, start_peer(helpdesk))
        report = Report(
            "API: creation and lists vs django-helpdesk 2.6.1 and a bare DRF endpoint",
            f"gunicorn -w 2 per project, SQLite WAL, 2 client threads; {sizes.rounds} rounds of "
            f"{sizes.per_round} creations of each kind; lists at {', '.join(f'{s:,}' for s in sizes.list_sizes)}"
            f" rows{' (QUICK: figures mean nothing)' if sizes == QUICK else ''}",
        )
        print(f"{report.setup}; {load_note()}", flush=True)
        measure(servers, sizes, report)
        report.figure("Total time of this bench", f"{time.perf_counter() - started:.0f} s")
        report.save("api")
    finally:
        for peer in peers:
            peer.stop()
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

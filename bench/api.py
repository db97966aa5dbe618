"""Benchmark of the conversations REST API: write throughput over HTTP and list latency at 10k and 100k rows.

One command, `.venv/bin/python bench/api.py`: it makes a throwaway SQLite database in a temp dir, migrates it,
creates an agent with a token, serves the project with `gunicorn -w 2` on a free loopback port, opens 2,000
conversations and posts a message to each through the HTTP API from 2 client threads, then bulk-inserts rows with
the ORM up to 10k and 100k conversations and times the first page of `GET /api/conversations/`, a filtered page and
a search page at each size. Queries per request are counted in-process with `CaptureQueriesContext` and the test
client. The compass is django-helpdesk 2.6.1 on this machine (STACK.md): 105 tickets/s created, 128 follow-ups/s,
31.6 s for a ticket list page at 100k tickets. Only loopback traffic; everything is deleted at the end.

Sizes can be lowered for a smoke run: `--conversations 40 --sizes 500,1000` or `--quick` (same as those; also
`BENCH_API_QUICK=1`). The figures only mean something at the default sizes.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONVERSATIONS_OVER_HTTP = 2_000
CONTACTS = 200
THREADS = 2
LIST_REQUESTS = 40
SIZES = (10_000, 100_000)
BATCH = 5_000
HELPDESK_TICKETS_PER_S = 105.0
HELPDESK_FOLLOWUPS_PER_S = 128.0
HELPDESK_LIST_100K_S = 31.6
FILTERED_QUERY = "status=open,pending&channel=email&priority=high"
SEARCH_QUERY = "search=invoice"


@dataclass(frozen=True)
class Sizes:
    """How much work one bench run does."""

    conversations: int = CONVERSATIONS_OVER_HTTP
    contacts: int = CONTACTS
    list_sizes: tuple[int, ...] = SIZES
    list_requests: int = LIST_REQUESTS


QUICK = Sizes(conversations=40, contacts=10, list_sizes=(500, 1_000), list_requests=6)


def parse_sizes(argv: list[str] | None = None) -> Sizes:
    """Default sizes, or smaller ones for a smoke run (`--quick`, `BENCH_API_QUICK=1`, or explicit numbers)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_API_QUICK") == "1",
                        help="a smoke run: 40 conversations, lists at 500 and 1,000 rows")
    parser.add_argument("--conversations", type=int, help=f"created over HTTP (default {CONVERSATIONS_OVER_HTTP})")
    parser.add_argument("--sizes", help="comma-separated row counts the list pages are timed at (default "
                                        + ",".join(str(size) for size in SIZES) + ")")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.conversations:
        sizes = Sizes(args.conversations, min(sizes.contacts, args.conversations), sizes.list_sizes,
                      sizes.list_requests)
    if args.sizes:
        list_sizes = tuple(sorted(int(part) for part in args.sizes.split(",") if part.strip()))
        sizes = Sizes(sizes.conversations, sizes.contacts, list_sizes, sizes.list_requests)
    return sizes


def configure_django(workdir: Path) -> dict[str, str]:
    """Point this process (and, through the returned env, gunicorn) at a fresh SQLite file and set Django up."""
    env = {
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "SQLITE_PATH": str(workdir / "bench.sqlite3"),
        "MEDIA_ROOT": str(workdir / "media"),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    return {**os.environ, **env}


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, token: str) -> subprocess.Popen:
    """Serve the project like production does (2 sync workers) and wait until it answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "helpdesk.wsgi:application"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 90  # a busy 2-core machine can take a while to import Django in two workers
    while time.monotonic() < deadline and server.poll() is None:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/teams/", headers={"Authorization": f"Token {token}"},
                         timeout=10)
            return server
        except requests.RequestException:  # not listening yet, or a worker still importing: try again
            time.sleep(0.3)
    stop_gunicorn(server)
    raise RuntimeError("gunicorn did not start")


def stop_gunicorn(server: subprocess.Popen) -> None:
    """SIGTERM to the master (it stops its workers); kill it if it has not gone within 30 s."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def run_threads(jobs: list, work: Callable[[requests.Session, object], float]) -> tuple[float, list[float]]:
    """Run `work(session, job)` over the jobs with THREADS client threads; return wall seconds and latencies."""
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(chunk: list) -> None:
        session = requests.Session()
        for job in chunk:
            elapsed = work(session, job)
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(jobs[i::THREADS],)) for i in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies


def timed_request(session: requests.Session, method: str, url: str, token: str, expect: int, **kwargs) -> tuple:
    """One HTTP request; returns (seconds, JSON body) and fails loudly on an unexpected status."""
    started = time.perf_counter()
    response = session.request(method, url, headers={"Authorization": f"Token {token}"}, timeout=60, **kwargs)
    elapsed = time.perf_counter() - started
    if response.status_code != expect:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:300]}")
    return elapsed, response.json()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def describe(label: str, wall: float, latencies: list[float]) -> str:
    return (f"{label:<34} {len(latencies) / wall:8.1f} req/s   p50 {statistics.median(latencies) * 1000:7.1f} ms"
            f"   p95 {percentile(latencies, 0.95) * 1000:7.1f} ms")


def create_over_http(base: str, token: str, sizes: Sizes) -> dict[str, float]:
    """Contacts, then the conversations (2,000 by default), then one customer message each, all through the API."""
    _, contact_ids = run_and_collect(base, token, "/api/contacts/", [
        {"name": f"Customer {n}", "email": f"customer{n}@example.com", "segment": random.choice(["smb", "vip"])}
        for n in range(sizes.contacts)
    ])
    channels, priorities = ["email", "live_chat", "whatsapp", "web"], ["low", "normal", "high", "urgent"]
    bodies = [{"contact": random.choice(contact_ids), "channel": random.choice(channels),
               "subject": f"Order {n} question", "priority": random.choice(priorities)}
              for n in range(sizes.conversations)]
    wall, conversation_ids = run_and_collect(base, token, "/api/conversations/", bodies)
    print(describe("POST /api/conversations/", wall, conversation_ids.latencies))
    messages = [(cid, {"body": f"Hello, my invoice {cid} looks wrong", "sender_type": "customer"})
                for cid in conversation_ids]
    msg_wall, msg_latencies = run_threads(messages, lambda session, job: timed_request(
        session, "POST", f"{base}/api/conversations/{job[0]}/messages/", token, 201, json=job[1])[0])
    print(describe("POST /api/conversations/{id}/messages/", msg_wall, msg_latencies))
    return {"conversations_per_s": len(bodies) / wall, "messages_per_s": len(messages) / msg_wall}


class IdList(list):
    latencies: list[float]


def run_and_collect(base: str, token: str, path: str, bodies: list[dict]) -> tuple[float, IdList]:
    """POST every body with the client threads; return wall seconds and the created ids (with latencies)."""
    ids = IdList()

    def post(session: requests.Session, body: dict) -> float:
        elapsed, created = timed_request(session, "POST", f"{base}{path}", token, 201, json=body)
        ids.append(created["id"])
        return elapsed

    wall, latencies = run_threads(bodies, post)
    ids.latencies = latencies
    return wall, ids


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
            Conversation(contact_id=random.choice(contact_ids), channel=random.choice(["email", "live_chat", "sms"]),
                         subject=f"Old case {offset + n}", status=random.choice(statuses),
                         priority=random.choice(["low", "normal", "high", "urgent"]),
                         created_at=oldest - timedelta(minutes=offset + n + 1))
            for n in range(count)
        )
        Message.objects.bulk_create(
            Message(conversation_id=row.pk, sender_type="customer",
                    body=random.choice(["My invoice is wrong", "Cannot log in", "Where is my parcel?"]))
            for row in rows
        )
        through = Conversation.tags.through
        through.objects.bulk_create(
            through(conversation_id=row.pk, tag_id=tags[n % 2].pk) for n, row in enumerate(rows) if n % 10 < 2
        )


def time_lists(base: str, token: str, requests_per_page: int) -> list[tuple[str, float]]:
    """Time the first page, a filtered page and a search page; return (label, p50 seconds)."""
    results = []
    for label, query in (("first page", ""), ("filtered page", FILTERED_QUERY), ("search page", SEARCH_QUERY)):
        url = f"{base}/api/conversations/?{query}"
        timed_request(requests.Session(), "GET", url, token, 200)  # warm the workers
        wall, latencies = run_threads(list(range(requests_per_page)),
                                      lambda session, _: timed_request(session, "GET", url, token, 200)[0])
        print("  " + describe(f"GET {label}", wall, latencies))
        results.append((label, statistics.median(latencies)))
    return results


def count_queries(token: str) -> None:
    """Queries per request of each kind, counted in-process with the test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from conversations.models import Contact

    client = Client(headers={"Authorization": f"Token {token}"})
    contact_id = Contact.objects.values_list("id", flat=True).first()
    created = {}
    requests_to_count = [
        ("POST conversation", lambda: created.setdefault("c", client.post(
            "/api/conversations/", {"contact": contact_id, "channel": "email", "subject": "Counted"},
            content_type="application/json"))),
        ("POST message", lambda: client.post(
            f"/api/conversations/{created['c'].json()['id']}/messages/",
            {"body": "Counted message", "sender_type": "customer"}, content_type="application/json")),
        ("GET first page", lambda: client.get("/api/conversations/")),
        ("GET filtered page", lambda: client.get(f"/api/conversations/?{FILTERED_QUERY}")),
        ("GET search page", lambda: client.get(f"/api/conversations/?{SEARCH_QUERY}")),
    ]
    counts = []
    for label, make_request in requests_to_count:
        with CaptureQueriesContext(connection) as captured:
            response = make_request()
        assert response.status_code in (200, 201), (label, response.status_code)
        counts.append(f"{label} {len(captured.captured_queries)}")
    print("SQL queries per request: " + ", ".join(counts))


def main(argv: list[str] | None = None) -> None:
    sizes = parse_sizes(argv)
    random.seed(7)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    server = None
    try:
        env = configure_django(workdir)
        token = create_agent_token()
        port = free_port()
        server = start_gunicorn(env, port, token)
        base = f"http://127.0.0.1:{port}"
        print(f"gunicorn -w 2 on {base}, SQLite at {env['SQLITE_PATH']}, {THREADS} client threads, "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        rates = create_over_http(base, token, sizes)
        print(f"Conversations created: {rates['conversations_per_s']:.1f}/s = "
              f"{rates['conversations_per_s'] / HELPDESK_TICKETS_PER_S:.2f}x django-helpdesk's 105 tickets/s")
        print(f"Messages created:      {rates['messages_per_s']:.1f}/s = "
              f"{rates['messages_per_s'] / HELPDESK_FOLLOWUPS_PER_S:.2f}x django-helpdesk's 128 follow-ups/s")
        for size in sizes.list_sizes:
            print(f"Bulk insert up to {size:,} conversations: {bulk_fill(size):.1f} s")
            p50 = dict(time_lists(base, token, sizes.list_requests))
        count_queries(token)
        largest = sizes.list_sizes[-1]
        print(f"First page at {largest:,}: p50 {p50['first page'] * 1000:.1f} ms vs django-helpdesk "
              f"{HELPDESK_LIST_100K_S} s at 100,000 ({HELPDESK_LIST_100K_S / p50['first page']:.0f}x faster)")
    finally:
        if server is not None:
            stop_gunicorn(server)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"Total bench time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

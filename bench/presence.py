"""Benchmark of presence and the live thread (docs/agent_day.md): what 100 open workspaces polling cost the server.

One command, `.venv/bin/python bench/presence.py` (`--quick` for a smoke run). Each open conversation page polls
`<id>/live/` every LIVE_POLL_SECONDS (a heartbeat upsert plus who else is here and the messages after the last
one), so W open workspaces cause W / LIVE_POLL_SECONDS requests per second, whatever the traffic of customers.
The script measures the server's CPU per poll in-process (Django's test client through the whole middleware
stack, admin session login, CSRF, the view and its queries on a fresh SQLite file in WAL mode, `time.process_time`
around each request), for W simulated agents on W/2 conversations (two agents per conversation, as when two answer
the same customer), with a customer message arriving now and then. From that: requests/s and the share of one
core the polling takes, for 100 workspaces. The same for the API heartbeat (`POST` + `GET
/api/conversations/{id}/presence/`). Loopback only: no network at all.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, Report, load_note  # noqa: F401  (sys.path set up by common)

WORKSPACES = 100


def configure_django(workdir: Path) -> None:
    """Point this process at a fresh SQLite file and set Django up (as bench/sla.py does)."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "SQLITE_PATH": str(workdir / "bench.sqlite3"),
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_agents(count: int):
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from conversations.roles import AGENTS_GROUP, ensure_roles

    ensure_roles()
    group = Group.objects.get(name=AGENTS_GROUP)
    clients = []
    for number in range(count):
        user = User.objects.create_user(username=f"agent{number}", password="x", is_staff=True)
        user.groups.add(group)
        client = Client(enforce_csrf_checks=False)
        client.force_login(user)
        clients.append((user, client))
    return clients


def make_conversations(count: int) -> list[int]:
    from conversations import services

    contact = services.contact_create(name="Bench contact", email="bench@example.com")
    ids = []
    for number in range(count):
        conversation = services.conversation_open(contact=contact, channel="email", subject=f"Bench {number}")
        services.message_create(conversation=conversation, body="Hello", sender_type="customer")
        ids.append(conversation.pk)
    return ids


def time_polls(clients, conversation_ids: list[int], rounds: int, url_of, body_of) -> list[float]:
    """CPU seconds of each poll: every client polls its conversation once per round; a customer writes to one
    conversation in ten each round (new messages for the pollers to fetch)."""
    from conversations import services
    from conversations.models import Conversation

    cpu: list[float] = []
    for round_number in range(rounds):
        for conversation_id in conversation_ids[::10]:
            services.message_create(
                conversation=Conversation(pk=conversation_id), body=f"ping {round_number}", sender_type="customer"
            )
        for index, (_user, client) in enumerate(clients):
            conversation_id = conversation_ids[index % len(conversation_ids)]
            started = time.process_time()
            response = client.post(url_of(conversation_id), body_of(index, round_number))
            cpu.append(time.process_time() - started)
            assert response.status_code == 200, response.status_code
    return cpu


def api_polls(clients, conversation_ids: list[int], rounds: int) -> list[float]:
    """The API's heartbeat and read (two requests per beat): CPU seconds of each pair."""
    cpu: list[float] = []
    for _ in range(rounds):
        for index, (_user, client) in enumerate(clients):
            url = f"/api/conversations/{conversation_ids[index % len(conversation_ids)]}/presence/"
            started = time.process_time()
            client.post(url, {"state": "viewing"}, content_type="application/json")
            response = client.get(url)
            cpu.append(time.process_time() - started)
            assert response.status_code == 200
    return cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 20
    with tempfile.TemporaryDirectory() as workdir:
        configure_django(Path(workdir))
        from django.db import connection
        from django.urls import reverse

        from conversations.admin.agent_day import LIVE_POLL_SECONDS

        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
        clients = make_agents(WORKSPACES)
        conversation_ids = make_conversations(WORKSPACES // 2)
        live = lambda pk: reverse("admin:conversations_conversation_live", args=[pk])  # noqa: E731

        def body(index, round_number):
            return {"state": "replying" if index % 2 else "viewing", "after": "0" if round_number == 0 else "999999999"}

        time_polls(clients, conversation_ids, 1, live, body)  # warm caches and the first full fetch
        live_cpu = time_polls(clients, conversation_ids, rounds, live, body)
        api_cpu = api_polls(clients, conversation_ids, rounds)
    per_s = WORKSPACES / LIVE_POLL_SECONDS
    live_ms, live_p95 = statistics.median(live_cpu) * 1000, sorted(live_cpu)[int(0.95 * (len(live_cpu) - 1))] * 1000
    api_ms = statistics.median(api_cpu) * 1000
    report = Report(
        title="Presence and live threads (bench/presence.py)",
        setup=f"{WORKSPACES} open workspaces on {WORKSPACES // 2} conversations, one poll every "
        f"{LIVE_POLL_SECONDS} s each, {rounds} rounds, in-process Django test client on SQLite "
        f"(WAL); {load_note()}",
    )
    report.figure("requests/s caused by 100 open workspaces", f"{per_s:.1f} (100 / {LIVE_POLL_SECONDS} s)")
    report.figure("server CPU per live poll (median, p95)", f"{live_ms:.2f} ms, {live_p95:.2f} ms")
    report.figure("share of one core for 100 workspaces", f"{per_s * live_ms / 1000 * 100:.0f} %")
    report.figure("API heartbeat POST + GET presence, CPU per beat (median)", f"{api_ms:.2f} ms")
    report.ratio(
        "CPU share of one core for 100 polling workspaces",
        per_s * live_ms / 1000,
        "<= 0.5",
        note="bounded: the poll is one upsert and three indexed reads",
    )
    report.raw = {"per_s": per_s, "live_cpu_ms": live_ms, "live_cpu_p95_ms": live_p95, "api_cpu_ms": api_ms}
    report.save("presence")


if __name__ == "__main__":
    sys.exit(main())

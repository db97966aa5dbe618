"""Benchmark of the workflow engine: what active workflows cost the posting request, and how fast runs finish.

One command, `.venv/bin/python bench/engine.py` (`--quick` for a smoke run): it migrates a throwaway SQLite file,
serves the project with `gunicorn -w 2` on a free loopback port and starts one `manage.py qcluster` (ORM broker,
2 workers) on the same file. Then, with 0, 10 and 50 active workflows of mixed trigger types (most not
`message.created`; a few `message.created` ones with filters that match some of the messages), it posts 1,000
(`--messages`; the figures in docs/development.md were taken at 2,000) customer messages through
`POST /api/conversations/{id}/messages/` from 2 client threads and waits, polling the database, until every event
of the batch is dispatched and every run has finished. It prints messages/s, p50/p95 of the posting request,
runs/s, and the ratio of the posting request at 50 workflows to 0 (compass: ≤ 1.5×). Only loopback traffic;
the temp directory is deleted at the end.

`--drain` runs the other engine benchmark instead, bench/drain.py: do the workers keep up with the API (acceptance
rate, drain rate, keep-up ratio, posting while draining; embedded SQLite and PostgreSQL + Redis with 1 and 2
qcluster). `--quick` makes either a smoke run whose figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import drain
from common import Report, load_note, percentile, post_all, warm_up

from tests.workflows.procs import Gunicorn, QCluster, project_env

MESSAGES = 1_000
CONVERSATIONS = 100  # per batch; the messages are spread over them
THREADS = 2
WORKFLOW_COUNTS = (0, 10, 50)
DRAIN_TIMEOUT = 150
COMPASS_RATIO = 1.5
FINISHED = ("succeeded", "failed", "stopped", "cancelled")

# Trigger configs of the workflows that never see a message (the dispatcher must not even read them).
OTHER_TRIGGERS = [
    ("conversation.created", {"channels": ["email"]}),
    ("conversation.status_changed", {"to": ["resolved"]}),
    ("conversation.assigned", {}),
    ("conversation.disposition_set", {"final": True}),
    ("contact.updated", {"attributes": ["plan"]}),
    ("recording.uploaded", {}),
    ("sla.warning", {"metrics": ["first_response"]}),
    ("sla.breached", {"threshold_minutes": 5}),
    ("scheduled_event.fired", {"names": ["follow_up"]}),
]
# message.created filters that match some of the messages below (never the AI replies: customers only).
MESSAGE_FILTERS = [
    {"sender_types": ["customer"], "content_contains": ["refund"]},
    {"sender_types": ["customer"], "content_regex": r"invoice \d+"},
    {"sender_types": ["customer"], "channels": ["whatsapp"], "content_contains": ["urgent"]},
]
BODIES = [
    "I would like a refund for order {n}",
    "My invoice {n} looks wrong",
    "urgent: cannot log in ({n})",
    "Where is my parcel {n}?",
    "Thanks for the help with {n}",
    "How do I change my plan? ({n})",
    "The app crashes when I open settings {n}",
    "Can I talk to a person? {n}",
]


def workflow_definition(index: int) -> dict:
    """Every fifth workflow listens to messages (with a filter); the others to other trigger types."""
    if index % 5 == 4:
        config = MESSAGE_FILTERS[(index // 5) % len(MESSAGE_FILTERS)]
        steps = [
            {
                "type": "condition",
                "config": {"all": [{"field": "contact.segment", "op": "eq", "value": "vip"}]},
                "on_false": "skip_next",
            },
            {"type": "set_priority", "config": {"priority": "high"}},
            {"type": "add_tag", "config": {"tags": [f"flow-{index}"]}},
            {"type": "set_variable", "config": {"name": "seen", "value": "{{ message.body }}"}},
        ]
        if index == 4:
            steps.append({"type": "auto_reply", "config": {"text": "Hi {{ contact.name }}, we are on it."}})
        return {
            "name": f"Message flow {index}",
            "status": "active",
            "trigger": {"type": "message.created", "config": config},
            "steps": steps,
        }
    trigger, config = OTHER_TRIGGERS[index % len(OTHER_TRIGGERS)]
    return {
        "name": f"Other flow {index}",
        "status": "active",
        "trigger": {"type": trigger, "config": config},
        "steps": [{"type": "add_tag", "config": {"tags": ["other"]}}],
    }


def setup_database(env: dict[str, str]) -> str:
    """Point this process at the bench database, migrate it, and return an agent's API token."""
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from conversations.roles import AGENTS_GROUP

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench-agent", password="bench-agent-pw", is_staff=True)
    user.groups.add(Group.objects.get(name=AGENTS_GROUP))
    return Token.objects.create(user=user).key


def add_workflows(target: int) -> None:
    """Create workflows until `target` are active."""
    from workflows import services
    from workflows.models import Workflow

    for index in range(Workflow.objects.count(), target):
        services.workflow_create(definition=workflow_definition(index))


def open_conversations(batch: int) -> list[int]:
    """Conversations for one batch, opened through the service layer (their events go to the queue too)."""
    from conversations import services

    ids = []
    for n in range(CONVERSATIONS):
        contact = services.contact_create(
            name=f"Customer {batch}-{n}",
            email=f"c{batch}-{n}@example.com",
            segment=random.choice(["vip", "smb", "smb"]),
        )
        ids.append(
            services.conversation_open(
                contact=contact, subject=f"Case {batch}-{n}", channel=random.choice(["email", "whatsapp", "live_chat"])
            ).pk
        )
    return ids


def backlog() -> tuple[int, int]:
    """(events not yet dispatched, runs not yet finished), read from the database."""
    from django.db import close_old_connections

    from conversations.models import Event
    from workflows.models import WorkflowRun

    close_old_connections()
    return (
        Event.objects.filter(dispatched_at__isnull=True).count(),
        WorkflowRun.objects.exclude(status__in=FINISHED).count(),
    )


def wait_for_drain(timeout: float = DRAIN_TIMEOUT) -> float:
    """Block until nothing is pending; return the moment it happened (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while backlog() != (0, 0):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the worker did not drain in {timeout} s: backlog {backlog()}")
        time.sleep(0.2)
    return time.perf_counter()


def post_messages(base: str, token: str, conversation_ids: list[int]) -> tuple[float, float, list[float]]:
    """POST the messages with the client threads; return (start, end, latencies) of the batch."""
    jobs = [
        (
            f"/api/conversations/{conversation_ids[n % len(conversation_ids)]}/messages/",
            {"body": random.choice(BODIES).format(n=n), "sender_type": "customer"},
        )
        for n in range(MESSAGES)
    ]
    started = time.perf_counter()
    rate, _ = post_all(base, token, jobs)
    return started, started + rate.wall, rate.latencies


def run_batch(base: str, token: str, workflows: int, batch: int) -> dict:
    """One measured batch at `workflows` active workflows."""
    from workflows.models import WorkflowRun

    add_workflows(workflows)
    conversation_ids = open_conversations(batch)
    wait_for_drain()  # the conversations' own events are not part of the measurement
    runs_before = WorkflowRun.objects.count()
    started, posted, latencies = post_messages(base, token, conversation_ids)
    drained = wait_for_drain()
    runs = WorkflowRun.objects.count() - runs_before
    failed = WorkflowRun.objects.exclude(status__in=["succeeded", "stopped"]).count()
    if len(latencies) != MESSAGES or failed:
        raise RuntimeError(f"{len(latencies)} messages posted, {failed} runs did not succeed")
    return {
        "workflows": workflows,
        "messages_per_s": MESSAGES / (posted - started),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "mean": statistics.mean(latencies),
        "runs": runs,
        "drain_s": drained - started,
        "runs_per_s": runs / (drained - started),
    }


def describe(row: dict) -> str:
    return (
        f"{row['messages_per_s']:6.1f} messages/s, POST p50 {row['p50'] * 1000:6.1f} ms, "
        f"p95 {row['p95'] * 1000:6.1f} ms; {row['runs']:>5} runs, all finished {row['drain_s']:5.1f} s after "
        f"the first post = {row['runs_per_s']:6.1f} runs/s"
    )


def parse_args() -> argparse.Namespace:
    """Sizes from the command line (defaults: the measured figures); a small size makes a quick smoke run."""
    global MESSAGES, CONVERSATIONS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drain", action="store_true", help="run the drain benchmark (bench/drain.py) instead")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK") == "1",
        help="a smoke run (50 messages over 10 conversations; drain: 20 messages, 1 round)",
    )
    parser.add_argument("--messages", type=int, help="messages posted per batch (drain: per phase)")
    parser.add_argument("--conversations", type=int, help="conversations per batch (drain: in all)")
    parser.add_argument("--rounds", type=int, help="drain: rounds per deployment (default 3)")
    parser.add_argument("--sqlite-only", action="store_true", help="drain: only the embedded SQLite deployment")
    args = parser.parse_args()
    if (args.messages is not None and args.messages < 1) or (args.conversations is not None and args.conversations < 1):
        parser.error("--messages and --conversations must be at least 1")
    MESSAGES = args.messages or (50 if args.quick else MESSAGES)
    CONVERSATIONS = args.conversations or (10 if args.quick else CONVERSATIONS)
    return args


def drain_sizes(args: argparse.Namespace) -> drain.DrainSizes:
    sizes = drain.QUICK if args.quick else drain.DrainSizes()
    overrides = {"messages": args.messages, "conversations": args.conversations, "rounds": args.rounds}
    return drain.DrainSizes(**{**sizes.__dict__, **{k: v for k, v in overrides.items() if v}})


def main() -> None:
    args = parse_args()
    if args.drain:
        drain.main(drain_sizes(args), sqlite_only=args.sqlite_only)
        return
    random.seed(11)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-engine-"))
    env = project_env(
        sqlite_path=workdir / "engine.sqlite3", MEDIA_ROOT=str(workdir / "media"), HELPDESK_SWEEP_SECONDS="15"
    )
    token = setup_database(env)
    server = Gunicorn(env, workdir / "gunicorn.log").start(timeout=90)
    warm_up(server.base_url)
    cluster = QCluster(env, workdir / "qcluster.log").start()
    report = Report(
        "Engine overhead: what active workflows cost the posting request",
        f"gunicorn -w 2 + 1 qcluster (ORM broker, 2 workers), SQLite WAL, {THREADS} client threads, "
        f"{MESSAGES:,} messages per batch over {CONVERSATIONS} conversations"
        + (" (QUICK: figures mean nothing)" if args.quick else ""),
    )
    try:
        print(f"{report.setup}; {load_note()}", flush=True)
        rows = []
        for batch, workflows in enumerate(WORKFLOW_COUNTS):
            rows.append(run_batch(server.base_url, token, workflows, batch))
            report.figure(f"{workflows} active workflows", describe(rows[-1]))
        ratio_p50, ratio_mean = (rows[-1][key] / rows[0][key] for key in ("p50", "mean"))
        report.ratio(f"posting request p50 at {WORKFLOW_COUNTS[-1]} vs 0 workflows", ratio_p50, f"<= {COMPASS_RATIO}")
        report.ratio(f"posting request mean at {WORKFLOW_COUNTS[-1]} vs 0 workflows", ratio_mean)
        report.raw["batches"] = rows
    except Exception:
        print("--- qcluster log ---\n" + cluster.log_tail(), file=sys.stderr)
        raise
    finally:
        cluster.stop()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report.figure("Total time of this bench", f"{time.perf_counter() - started:.0f} s")
    report.save("engine")


if __name__ == "__main__":
    main()

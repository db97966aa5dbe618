"""Simulation and benchmark of the routing queue (docs/routing.md): a day of arrivals through the real queue code.

One command, `.venv/bin/python bench/routing.py` (`make bench` runs it): a throwaway SQLite file (WAL, as `make run`
uses), one auto-assign team (least busy, skills relaxed after 10 minutes), 20 agents on four overlapping shifts with
3 skills between them, and ROUTING_BENCH_CONVERSATIONS (default 5,000) arrivals over 24 simulated hours (busier in
the day), 30 % needing a skill. The clock is simulated (`conversations.clock.travel`) and advanced minute by minute:
shifts start (agent online: the queue fills) and end (agent offline: unanswered work is handed back); conversations
arrive through `conversation_open` (the after-commit fill runs at once); an assigned agent replies after 2 minutes
and resolves after 3 minutes plus an exponential time of mean 6 (each resolution fills the freed seat); the sweep
(`routing_sweep`) runs every simulated minute. Every assignment is checked when it happens: the agent must be online and within capacity.

Reports wait p50/p90 per priority (creation to the queue's assignment, simulated minutes), load spread (assignments
per agent), assignments per second (the claim alone: one `queue_fill` over a burst of 1,000 waiting conversations;
and the pace of the whole simulated day), and the count of assignments to an agent who was away, offline or full
(must be 0). ROUTING_BENCH_CONVERSATIONS sets the size (`make bench QUICK=1`: 500). Nothing leaves the machine.
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
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's packages before bench/ (bench/sla.py is not the `sla` app)

QUICK = os.environ.get("BENCH_QUICK") == "1"
CONVERSATIONS = int(os.environ.get("ROUTING_BENCH_CONVERSATIONS", 500 if QUICK else 5_000))
AGENTS = 20
CAPACITY = 5
SKILLS = ("german", "french", "billing")
SHIFTS = [(0, 8), (7, 15), (12, 20), (16, 24)]  # hours of the simulated day, 5 agents each (overlaps at peaks)
PRIORITIES = [("low", 0.2), ("normal", 0.55), ("high", 0.2), ("urgent", 0.05)]
SEED = 20


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


class SimClock:
    """Moves `conversations.clock` to a simulated moment (a fresh travel per step, so wall time does not drift)."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self._travel = None

    def set(self, minute: int) -> dt.datetime:
        from django.utils import timezone

        from conversations import clock

        if self._travel is not None:
            self._travel.__exit__(None, None, None)
        moment = self.start + dt.timedelta(minutes=minute)
        self._travel = clock.travel(moment - timezone.now())
        self._travel.__enter__()
        return moment


def arrival_minutes(rng: random.Random) -> list[int]:
    """CONVERSATIONS arrival minutes over a day, three times as dense between 08:00 and 20:00."""
    weights = [3 if 8 * 60 <= minute < 20 * 60 else 1 for minute in range(1440)]
    return sorted(rng.choices(range(1440), weights=weights, k=CONVERSATIONS))


def make_people(rng: random.Random):
    from django.contrib.auth.models import User

    from conversations import services
    from conversations.models import AgentProfile

    team = services.team_create(name="Support", auto_assign=True, strategy="least_busy", skills_timeout_minutes=10)
    contact = services.contact_create(name="Bench contact", email="bench@example.com")
    agents = []
    for n in range(AGENTS):
        user = User.objects.create_user(username=f"agent{n:02d}", is_staff=True)
        skills = [SKILLS[n % 3]] + ([SKILLS[(n + 1) % 3]] if n % 4 == 0 else [])
        profile = AgentProfile.objects.create(user=user, capacity=CAPACITY, skills=skills, status="offline")
        profile.teams.add(team)
        agents.append((profile, SHIFTS[n % len(SHIFTS)]))
    return team, contact, agents


class Checker:
    """Checks every queue assignment as it happens: to an online agent within capacity."""

    def __init__(self) -> None:
        self.seen_events: set = set()
        self.violations = 0
        self.assignments: list[tuple[int, int, dt.datetime, str]] = []

    def check(self, since: dt.datetime) -> list[tuple[int, int]]:
        from conversations.models import AgentProfile, Event
        from conversations.routing.queue import open_loads

        new = [
            event
            for event in Event.objects.filter(
                type="conversation.assigned", occurred_at__gte=since, payload__has_key="reason"
            ).order_by("occurred_at")
            if event.pk not in self.seen_events
        ]
        assigned = []
        for event in new:
            self.seen_events.add(event.pk)
            if event.payload["reason"] in ("queue", "skills_timeout"):
                assigned.append((event.conversation_id, event.payload["assignee_id"]))
                self.assignments.append(
                    (event.conversation_id, event.payload["assignee_id"], event.occurred_at, event.payload["reason"])
                )
        if assigned:
            agents = {agent for _, agent in assigned}
            profiles = {p.user_id: p for p in AgentProfile.objects.filter(user_id__in=agents)}
            loads = open_loads(agents)
            for agent in agents:
                if profiles[agent].status != "online" or loads.get(agent, 0) > profiles[agent].capacity:
                    self.violations += 1
                    print(
                        f"VIOLATION at {since:%H:%M}: agent {agent} {profiles[agent].status} load "
                        f"{loads.get(agent, 0)}/{profiles[agent].capacity}",
                        flush=True,
                    )
        return assigned


def simulate() -> dict:
    from conversations import services
    from conversations.models import Conversation
    from conversations.routing.handback import routing_sweep

    rng = random.Random(SEED)
    team, contact, agents = make_people(rng)
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    sim = SimClock(start)
    arrivals = arrival_minutes(rng)
    checker = Checker()
    created: dict[int, tuple[dt.datetime, str]] = {}
    reply_at: dict[int, list[int]] = defaultdict(list)
    resolve_at: dict[int, list[int]] = defaultdict(list)
    queue_seconds = 0.0
    next_arrival = 0
    for minute in range(1440 + 120):  # two extra hours drain the evening queue
        now = sim.set(minute)
        step_started = time.perf_counter()
        after_status_change: list[tuple[int, int]] = []
        for profile, (begin, end) in agents:
            if minute in (begin * 60, end * 60):
                services.agent_set_status(profile=profile, status="online" if minute == begin * 60 else "offline")
                # checked right away: the next agent's change may take this one offline in the same minute
                after_status_change.extend(checker.check(now))
        for conversation_id in reply_at.pop(minute, []):
            conversation = Conversation.objects.get(pk=conversation_id)
            if conversation.assignee_id and conversation.status in ("new", "open"):
                services.message_create(
                    conversation=conversation,
                    body="Looking into it.",
                    sender_type="agent",
                    author=conversation.assignee,
                )
        for conversation_id in resolve_at.pop(minute, []):
            conversation = Conversation.objects.get(pk=conversation_id)
            if conversation.assignee_id and conversation.status in ("new", "open"):
                services.conversation_change_status(conversation=conversation, status="resolved")
        while next_arrival < len(arrivals) and arrivals[next_arrival] == minute:
            priority = rng.choices([p for p, _ in PRIORITIES], weights=[w for _, w in PRIORITIES])[0]
            conversation = services.conversation_open(
                contact=contact, channel="live_chat", priority=priority, subject=f"Question {next_arrival}", team=team
            )
            if rng.random() < 0.3:
                services.conversation_set_required_skills(conversation=conversation, skills=[rng.choice(SKILLS)])
            created[conversation.pk] = (now, priority)
            next_arrival += 1
        routing_sweep()
        queue_seconds += time.perf_counter() - step_started  # (less the checks of the status changes: negligible)
        for conversation_id, _agent in after_status_change + checker.check(now):
            reply_at[minute + 2].append(conversation_id)
            resolve_at[minute + 3 + int(rng.expovariate(1 / 6))].append(conversation_id)  # ~9 min handling
    return {"created": created, "checker": checker, "queue_seconds": queue_seconds}


def burst(size: int = 1_000) -> tuple[int, float]:
    """The claim alone: `size` waiting conversations, 20 online agents with room for all; one timed `queue_fill`."""
    from conversations import services
    from conversations.models import AgentProfile, Team
    from conversations.routing.queue import queue_fill

    team = services.team_create(name="Burst")  # auto_assign off while the queue fills up
    contact = services.contact_create(name="Burst contact")
    for n in range(size):
        services.conversation_open(contact=contact, channel="live_chat", subject=f"Burst {n}", team=team)
    for profile in AgentProfile.objects.all():
        profile.teams.set([team])
    AgentProfile.objects.update(status="online", capacity=size)
    Team.objects.filter(pk=team.pk).update(auto_assign=True)
    started = time.perf_counter()
    result = queue_fill(team_ids=[team.pk])
    return len(result), time.perf_counter() - started


def report(result: dict, wall: float) -> None:
    from common import Report

    created, checker = result["created"], result["checker"]
    first: dict[int, tuple[int, dt.datetime]] = {}
    for conversation_id, agent, at, _reason in checker.assignments:
        first.setdefault(conversation_id, (agent, at))
    waits: dict[str, list[float]] = defaultdict(list)
    for conversation_id, (at, priority) in created.items():
        if conversation_id in first:
            waits[priority].append((first[conversation_id][1] - at).total_seconds() / 60)
    per_agent = defaultdict(int)
    for _conversation, agent, _at, _reason in checker.assignments:
        per_agent[agent] += 1
    counts = sorted(per_agent.values())
    relaxed = sum(1 for *_, reason in checker.assignments if reason == "skills_timeout")
    out = Report(
        title="Routing queue: a simulated day",
        setup=f"{len(created):,} conversations over 24 simulated hours, {AGENTS} agents (capacity "
        f"{CAPACITY}) on {len(SHIFTS)} shifts, {len(SKILLS)} skills, SQLite",
    )
    for priority, _ in PRIORITIES:
        values = sorted(waits[priority])
        if not values:
            out.figure(f"wait {priority}", "none assigned")
        else:
            out.figure(
                f"wait {priority}",
                f"p50 {statistics.median(values):.1f} min, "
                f"p90 {values[int(0.9 * (len(values) - 1))]:.1f} min (n={len(values)})",
            )
    out.figure(
        "assigned by the queue",
        f"{len(checker.assignments):,} ({relaxed} after the skills timeout); "
        f"{len(created) - len(first)} never assigned",
    )
    out.figure(
        "load spread",
        f"assignments per agent min {counts[0]}, median {statistics.median(counts):.0f}, "
        f"max {counts[-1]} (shifts differ in busy hours)",
    )
    out.figure(
        "simulation pace",
        f"{len(checker.assignments) / result['queue_seconds']:.1f} assignments per "
        f"second of the {result['queue_seconds']:.1f} s the simulated day took in the "
        f"services (arrivals, replies, resolutions, status changes, a sweep per minute)",
    )
    burst_count, burst_seconds = result["burst"]
    out.figure(
        "claim throughput",
        f"{burst_count / burst_seconds:,.0f} assignments/s: one queue_fill giving "
        f"{burst_count:,} waiting conversations to {AGENTS} agents in {burst_seconds:.2f} s "
        f"(locks, loads, writes and the events)",
    )
    out.figure("assignments to an away, offline or full agent", f"{checker.violations} (must be 0)")
    out.save("routing")
    if checker.violations:
        sys.exit(1)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="routing-bench-"))
    try:
        configure_django(workdir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        result = simulate()
        result["burst"] = burst()
        report(result, time.perf_counter() - started)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

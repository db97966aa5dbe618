"""The team queue (docs/routing.md): waiting conversations go to online agents with a free seat, highest priority first,
oldest first, to an agent who has the required skills (any online agent of the team once the conversation has
waited `skills_timeout_minutes`), chosen by the team's strategy.

Claims are set-wise and race-free. One transaction per team locks the team's online agent profiles and a batch of
its waiting conversations with `SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL): rows another worker, a web
process or a person assigning by hand holds are skipped, never waited for, so two fills never count the same seat
or take the same conversation, and a manual assignment (which locks its assignee's profile, see
`conversations.services.conversations.conversation_assign`) never races a fill for one seat. SQLite has one writer
at a time (IMMEDIATE transactions), which gives the same guarantee.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, QuerySet, Value, When

from conversations import clock, payloads
from conversations.choices import PRIORITY_RANK, AgentStatus, AssignReason, EventType, RoutingStrategy
from conversations.events import record_events
from conversations.models import AgentProfile, Conversation, Team
from conversations.routing.skills import has_skills
from conversations.routing.state import WAITING_STATUSES

_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
MIN_BATCH = 50  # conversations looked at per fill beyond the free seats (skills may pass over some)


def priority_rank() -> Case:
    """The priority as a number (urgent highest), for ordering in the database."""
    return Case(
        *[When(priority=str(priority), then=Value(rank)) for priority, rank in PRIORITY_RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def waiting_conversations(team: Team | int) -> QuerySet:
    """The team's queue in the order it is taken: highest priority, then longest waiting, then oldest id."""
    return (
        Conversation.objects.filter(team=team, assignee__isnull=True, status__in=WAITING_STATUSES)
        .annotate(priority_rank=priority_rank())
        .order_by("-priority_rank", F("queued_since").asc(nulls_first=True), "pk")
    )


def open_loads(user_ids: Iterable[int]) -> dict[int, int]:
    """Open conversations (new, open) per agent: what counts against capacity (docs/routing.md)."""
    rows = (
        Conversation.objects.filter(assignee_id__in=list(user_ids), status__in=WAITING_STATUSES)
        .values("assignee_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["assignee_id"]: row["count"] for row in rows}


@dataclass
class Seat:
    """An online agent of the team with room for more work, as the fill sees it."""

    profile: AgentProfile
    load: int

    @property
    def free(self) -> int:
        return self.profile.capacity - self.load

    def waited(self) -> tuple:
        return (self.profile.last_assigned_at or _NEVER, self.profile.user_id)


def _least_busy(seat: Seat) -> tuple:
    return (seat.load, *seat.waited())


def _round_robin(seat: Seat) -> tuple:
    return seat.waited()


STRATEGY_KEYS = {RoutingStrategy.LEAST_BUSY: _least_busy, RoutingStrategy.ROUND_ROBIN: _round_robin}


def pick_seat(
    seats: list[Seat], conversation: Conversation, team: Team, now: dt.datetime, strategy: str | None = None
) -> tuple[Seat | None, str]:
    """The seat that takes `conversation` and the reason: skilled agents first; after the team's skills timeout any
    seat (`skills_timeout`). The agent it was just taken back from is passed over."""
    open_seats = [seat for seat in seats if seat.free > 0 and seat.profile.user_id != conversation.handed_back_by_id]
    key = STRATEGY_KEYS.get(strategy or team.strategy, _least_busy)
    skilled = [seat for seat in open_seats if has_skills(seat.profile.skills, conversation.required_skills)]
    if skilled:
        return min(skilled, key=key), AssignReason.QUEUE
    waited_since = conversation.queued_since or conversation.created_at
    if open_seats and now - waited_since >= dt.timedelta(minutes=team.skills_timeout_minutes):
        return min(open_seats, key=key), AssignReason.SKILLS_TIMEOUT
    return None, ""


@dataclass
class FillResult:
    """What one fill did: (conversation id, agent user id, reason) per assignment."""

    assignments: list[tuple[int, int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.assignments)


def _locked_seats(team: Team) -> list[Seat]:
    profiles = list(
        AgentProfile.objects.filter(teams=team, status=AgentStatus.ONLINE)
        .select_related("user")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
    )
    loads = open_loads(profile.user_id for profile in profiles)
    seats = [Seat(profile=profile, load=loads.get(profile.user_id, 0)) for profile in profiles]
    return [seat for seat in seats if seat.free > 0]


def _claim(conversation: Conversation, seat: Seat, team: Team, reason: str, now: dt.datetime) -> dict[str, Any] | None:
    """Write one assignment (conditional on the row still waiting) and return its event spec."""
    updated = Conversation.objects.filter(pk=conversation.pk, assignee__isnull=True, team=team).update(
        assignee_id=seat.profile.user_id, assigned_at=now, queued_since=None, handed_back_by=None, updated_at=now
    )
    if not updated:
        return None
    seat.load += 1
    seat.profile.last_assigned_at = now
    before = {"assignee_id": None, "team_id": team.pk}
    after = {"assignee_id": seat.profile.user_id, "team_id": team.pk}
    return {
        "type": EventType.ASSIGNED,
        "conversation": conversation,
        "payload": payloads.assigned(before=before, after=after, actor=None, reason=reason),
    }


def fill_team(team: Team, now: dt.datetime | None = None) -> FillResult:
    """Offer the team's waiting conversations to its online agents with free seats, in one transaction."""
    result = FillResult()
    with transaction.atomic():
        seats = _locked_seats(team)
        if not seats:
            return result
        now = now or clock.now()
        batch_size = sum(seat.free for seat in seats) * 4 + MIN_BATCH
        batch = list(
            waiting_conversations(team)
            .select_related("contact")
            .select_for_update(skip_locked=True, of=("self",))[:batch_size]
        )
        events = []
        for conversation in batch:
            seat, reason = pick_seat(seats, conversation, team, now)
            if seat is None:
                continue
            event = _claim(conversation, seat, team, reason, now)
            if event:
                events.append(event)
                result.assignments.append((conversation.pk, seat.profile.user_id, reason))
            if not any(seat.free > 0 for seat in seats):
                break
        for seat in seats:
            if seat.profile.last_assigned_at == now:
                AgentProfile.objects.filter(pk=seat.profile.pk).update(last_assigned_at=now)
        if events:
            record_events(events)
    return result


def queue_fill(*, team_ids: Iterable[int] | None = None, now: dt.datetime | None = None) -> FillResult:
    """Fill the queues of the given teams (all of them when None) that have `auto_assign`; one transaction per
    team. Safe to call from any number of processes at once."""
    teams = Team.objects.filter(auto_assign=True).order_by("pk")
    if team_ids is not None:
        teams = teams.filter(pk__in=list(team_ids))
    result = FillResult()
    for team in teams:
        result.assignments.extend(fill_team(team, now).assignments)
    return result


def queue_position_rows(team: Team, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The team's waiting conversations in take order, each with how long it has waited (the admin Queues page)."""
    now = now or clock.now()
    return [
        {"conversation": conversation, "waited": now - (conversation.queued_since or conversation.created_at)}
        for conversation in waiting_conversations(team).select_related("contact")[:500]
    ]


def online_agents(team: Team) -> list[dict[str, Any]]:
    """The team's agents with their status and load/capacity (the admin Queues page)."""
    profiles = list(AgentProfile.objects.filter(teams=team).select_related("user").order_by("status", "user__username"))
    loads = open_loads(profile.user_id for profile in profiles)
    return [{"profile": profile, "load": loads.get(profile.user_id, 0)} for profile in profiles]


# The wake-up: the services call it whenever a seat may have freed or work arrived, so nobody waits for the sweep
# in the common case.
def request_fill(*, team_ids: Iterable[int | None] = (), agent_id: int | None = None) -> None:
    """Fill the queues of these teams (and of the agent's teams) once the current transaction commits."""
    ids = {pk for pk in team_ids if pk}
    if not ids and agent_id is None:
        return
    transaction.on_commit(lambda: _fill_after_commit(ids, agent_id), robust=True)


def _fill_after_commit(team_ids: set[int], agent_id: int | None) -> None:
    if agent_id is not None:
        team_ids = team_ids | set(Team.objects.filter(agents__user_id=agent_id).values_list("pk", flat=True))
    if team_ids:
        queue_fill(team_ids=team_ids)

"""Routing strategies for the `route` step (docs/reference/steps.md): which agent of a team gets a conversation.

Plain functions over the database that decide and never write: the step writes the decision through the
conversations services. An agent is eligible when `online` and below capacity, where the load is the number of
open conversations (new, open: docs/routing.md) assigned to them, not counting the conversation being routed; for a team
strategy also skilled for the conversation's `required_skills` (any online agent once it has waited the team's
skills timeout). When nobody is eligible the conversation waits in the team's queue (`conversations.routing`),
which offers it to the next agent whose seat frees.
When deciding for real (`lock=True`, inside the step's transaction) the candidate agent profiles are locked with
`SELECT ... FOR UPDATE` in a fixed order, so two runs routing at once on PostgreSQL take turns and the second one
counts the first one's assignment: nobody goes over capacity. SQLite serialises writers anyway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet

from conversations import clock
from conversations.choices import AgentStatus
from conversations.models import AgentProfile, Conversation, Team
from conversations.routing.skills import has_skills
from conversations.routing.state import WAITING_STATUSES

SPECIFIC, ROUND_ROBIN, LEAST_BUSY = "specific", "round_robin", "least_busy"
STRATEGIES = (SPECIFIC, ROUND_ROBIN, LEAST_BUSY)

_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass
class Candidate:
    """One agent considered by a strategy, with what made them eligible or not."""

    profile: AgentProfile
    load: int

    @property
    def eligible(self) -> bool:
        return self.profile.status == AgentStatus.ONLINE and self.load < self.profile.capacity

    def as_data(self) -> dict[str, Any]:
        return {
            "agent": self.profile.user.get_username(),
            "status": self.profile.status,
            "load": self.load,
            "capacity": self.profile.capacity,
            "skills": list(self.profile.skills or []),
        }


@dataclass
class RoutingDecision:
    """Where a conversation goes: a team and/or an agent, or the team alone with the reason nobody was picked."""

    team: Team | None
    agent: Any = None  # a User, or None when only the team is assigned
    keep_assignee: bool = False
    reason: str = ""
    candidates: list[Candidate] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        return {
            "team": self.team.name if self.team else None,
            "team_id": self.team.pk if self.team else None,
            "agent": self.agent.get_username() if self.agent else None,
            "agent_id": self.agent.pk if self.agent else None,
            "reason": self.reason,
            "candidates": [candidate.as_data() for candidate in self.candidates],
        }


def _profiles(queryset: QuerySet[Any], lock: bool) -> list[AgentProfile]:
    queryset = queryset.select_related("user").order_by("pk")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return list(queryset)


def open_loads(user_ids: list[int], conversation: Conversation) -> dict[int, int]:
    """Open conversations per agent, leaving out the one being routed (re-routing it must not count it twice)."""
    rows = (
        Conversation.objects.filter(assignee_id__in=user_ids, status__in=WAITING_STATUSES)
        .exclude(pk=conversation.pk)
        .values("assignee_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["assignee_id"]: row["count"] for row in rows}


def candidates_for(profiles: list[AgentProfile], conversation: Conversation) -> list[Candidate]:
    """Each profile with its current load."""
    loads = open_loads([profile.user_id for profile in profiles], conversation)
    return [Candidate(profile=profile, load=loads.get(profile.user_id, 0)) for profile in profiles]


def _waited_longest(candidate: Candidate) -> tuple[Any, ...]:
    """Never-assigned agents first, then the one assigned longest ago; the id keeps the order total."""
    return (candidate.profile.last_assigned_at or _NEVER, candidate.profile.user_id)


def pick_round_robin(eligible: list[Candidate]) -> Candidate | None:
    """The eligible agent whose last assignment is the oldest."""
    return min(eligible, key=_waited_longest, default=None)


def pick_least_busy(eligible: list[Candidate]) -> Candidate | None:
    """The eligible agent with the fewest open conversations; ties go to the one who waited longest."""
    return min(eligible, key=lambda candidate: (candidate.load, *_waited_longest(candidate)), default=None)


def skilled_or_relaxed(candidates: list[Candidate], conversation: Conversation, team: Team) -> list[Candidate]:
    """The eligible candidates skilled for the conversation; all eligible ones once it has waited the team's
    skills timeout (the queue's rule, `conversations.routing.queue.pick_seat`)."""
    eligible = [candidate for candidate in candidates if candidate.eligible]
    skilled = [c for c in eligible if has_skills(c.profile.skills, conversation.required_skills)]
    waited_since = conversation.queued_since or conversation.created_at or clock.now()
    if skilled or clock.now() - waited_since < dt.timedelta(minutes=team.skills_timeout_minutes):
        return skilled
    return eligible


PICKERS = {ROUND_ROBIN: pick_round_robin, LEAST_BUSY: pick_least_busy}


def _unavailable_reason(candidate: Candidate) -> str:
    if candidate.profile.status != AgentStatus.ONLINE:
        return f"is {candidate.profile.status}"
    return f"is at capacity ({candidate.load}/{candidate.profile.capacity})"


def decide_specific(*, conversation: Conversation, team: Team | None, agent: Any, lock: bool) -> RoutingDecision:
    """The named agent if online and below capacity; otherwise (or with no agent) the team alone, where the
    conversation waits in the team's queue."""
    if agent is None:
        return RoutingDecision(
            team=team,
            keep_assignee=_is_member(conversation.assignee_id, team),
            reason="no agent named: assigned to the team",
        )
    profiles = _profiles(AgentProfile.objects.filter(user=agent), lock)
    if not profiles:
        raise ValidationError({"agent": f'"{agent.get_username()}" is not an agent (no agent profile).'})
    candidate = candidates_for(profiles, conversation)[0]
    if candidate.eligible:
        return RoutingDecision(team=team, agent=agent, reason="the named agent", candidates=[candidate])
    outcome = "waits in the team's queue" if team else "nothing changed"
    return RoutingDecision(
        team=team, candidates=[candidate], reason=f"{agent.get_username()} {_unavailable_reason(candidate)}: {outcome}"
    )


def decide_for_team(*, conversation: Conversation, team: Team, strategy: str, lock: bool) -> RoutingDecision:
    """Round robin or least busy among the team's eligible agents; when nobody is eligible the conversation waits
    in the team's queue (team set, no assignee).

    A conversation already held by an eligible member of the team stays with them, so routing on every message
    does not hand a live conversation from agent to agent.
    """
    profiles = _profiles(AgentProfile.objects.filter(teams=team), lock)
    candidates = candidates_for(profiles, conversation)
    current = next((c for c in candidates if c.profile.user_id == conversation.assignee_id and c.eligible), None)
    if current is not None:
        return RoutingDecision(
            team=team,
            agent=current.profile.user,
            candidates=candidates,
            reason="already assigned to an online agent of the team",
        )
    chosen = PICKERS[strategy](skilled_or_relaxed(candidates, conversation, team))
    if chosen is None:
        return RoutingDecision(
            team=team,
            candidates=candidates,
            reason="no agent of the team is available below capacity: waits in the team's queue",
        )
    return RoutingDecision(team=team, agent=chosen.profile.user, candidates=candidates, reason=strategy)


def _is_member(user_id: int | None, team: Team | None) -> bool:
    if user_id is None:
        return False
    if team is None:
        return True
    return AgentProfile.objects.filter(user_id=user_id, teams=team).exists()


def decide(
    *, conversation: Conversation, strategy: str, team: Team | None, agent: Any, lock: bool = False
) -> RoutingDecision:
    """Where the conversation would go under `strategy`; writes nothing. `lock` only inside a transaction."""
    if strategy == SPECIFIC:
        return decide_specific(conversation=conversation, team=team, agent=agent, lock=lock)
    if team is None:  # validation asks for a team; a team template may still render empty
        raise ValueError(f"The {strategy} strategy picks an agent of a team, and the team is empty.")
    return decide_for_team(conversation=conversation, team=team, strategy=strategy, lock=lock)

"""Read queries of the SLA app that other apps reuse: a conversation's targets and the `sla_breached` filter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from conversations import clock
from conversations.models import Conversation
from sla.calendars import clock_seconds_between
from sla.models import Metric, SlaTarget, TargetState
from sla.policies import calendar_for

METRIC_ORDER = {metric: position for position, metric in enumerate(Metric.values)}


def targets_for(conversation: Conversation) -> list[SlaTarget]:
    """The conversation's current target per metric (the latest `next_response` cycle), in metric order.

    Reads `conversation.sla_targets.all()`, so a list view that does `prefetch_related("sla_targets")` pays one
    query for the whole page.
    """
    return latest_targets(conversation.sla_targets.all())


def latest_targets(targets: Iterable[SlaTarget]) -> list[SlaTarget]:
    """Of one conversation's targets, the latest per metric (the current `next_response` cycle), in metric order."""
    latest: dict[str, SlaTarget] = {}
    for target in targets:
        current = latest.get(target.metric)
        if current is None or (target.started_at, target.pk) > (current.started_at, current.pk):
            latest[target.metric] = target
    return sorted(latest.values(), key=lambda target: METRIC_ORDER[target.metric])


def uses_business_time(target: SlaTarget) -> bool:
    """Whether the target's clock counts business time (its policy has a calendar) rather than calendar time."""
    return bool(target.policy_id and target.policy and target.policy.business_hours_id)


def remaining_seconds(target: SlaTarget, now: dt.datetime | None = None) -> int | None:
    """Time left on the target's own clock (negative once overdue), None once finished.

    Always the same kind of time as the target: business time when its policy uses a calendar, calendar time
    otherwise, whether the clock runs or is paused. (Wall-clock time until `due_at` would mix the two: a business
    target shows nights and weekends while running but not while paused.) Read targets with
    `policy__business_hours` loaded to keep one query per list.
    """
    if target.state not in (TargetState.ACTIVE, TargetState.PAUSED):
        return None
    used = target.consumed_seconds
    if target.state == TargetState.ACTIVE:
        calendar = calendar_for(target.policy) if uses_business_time(target) else None
        used += clock_seconds_between(calendar, target.resumed_at, now or clock.now())
    return int(target.target_seconds - used)


def paused_seconds(target: SlaTarget, now: dt.datetime | None = None) -> int:
    """Wall-clock seconds the clock spent paused, including the pause still running."""
    running = (now or clock.now()) - target.paused_at if target.paused_at else dt.timedelta(0)
    return int(target.paused_seconds + max(running.total_seconds(), 0.0))


def breached_conversation_ids_q(breached: bool = True) -> Q:
    """A Q over Conversation for the `sla_breached` filter: conversations with (or without) a breached target."""
    with_breach = Q(pk__in=SlaTarget.objects.filter(state=TargetState.BREACHED).values("conversation_id"))
    return with_breach if breached else ~with_breach


# "Due soon" is the policy's own warning point (e.g. 80 % of the target used); a target without one is due soon in
# its last DUE_SOON.
DUE_SOON = dt.timedelta(minutes=15)


def _due_soon(target: SlaTarget, now: dt.datetime) -> bool:
    if target.warning_at is not None:
        return target.warning_at <= now
    return target.due_at <= now + DUE_SOON


def urgency(target: SlaTarget, now: dt.datetime) -> str:
    """`breached` (breached, or past due before the sweep marks it), `due_soon`, `running`, `paused` or `met`."""
    running = target.state == TargetState.ACTIVE and target.due_at is not None
    if target.state == TargetState.BREACHED or (running and target.due_at <= now):
        return "breached"
    if running and _due_soon(target, now):
        return "due_soon"
    return {TargetState.ACTIVE: "running", TargetState.PAUSED: "paused"}.get(target.state, "met")


URGENCY_ORDER = {"breached": 0, "due_soon": 1, "running": 2, "paused": 3, "met": 4}


def most_urgent_target(conversation: Conversation, now: dt.datetime) -> tuple[SlaTarget, str] | None:
    """The target an agent should look at first (breached, then the soonest due) with its urgency; None without
    targets. Reads the prefetched `sla_targets`, like `targets_for`."""
    ranked = sorted(
        ((urgency(target, now), target) for target in targets_for(conversation)),
        key=lambda pair: (URGENCY_ORDER[pair[0]], pair[1].due_at or now),
    )
    return (ranked[0][1], ranked[0][0]) if ranked else None


def overdue_conversations_q(now: dt.datetime) -> Q:
    """Conversations with a breached target, or a running one already past due (before the sweep marks it)."""
    overdue = SlaTarget.objects.filter(state=TargetState.ACTIVE, due_at__lte=now).values("conversation_id")
    return breached_conversation_ids_q(True) | Q(pk__in=overdue)


def due_soon_conversations_q(now: dt.datetime) -> Q:
    """Conversations with a running target not yet due but past its warning point (see `_due_soon`)."""
    soon = SlaTarget.objects.filter(
        Q(warning_at__lte=now) | Q(warning_at__isnull=True, due_at__lte=now + DUE_SOON),
        state=TargetState.ACTIVE,
        due_at__gt=now,
    )
    return Q(pk__in=soon.values("conversation_id"))

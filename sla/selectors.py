"""Read queries of the SLA app that other apps reuse: a conversation's targets and the `sla_breached` filter."""
from __future__ import annotations

import datetime as dt

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
    latest: dict[str, SlaTarget] = {}
    for target in conversation.sla_targets.all():
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

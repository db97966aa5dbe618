"""Per-conversation SLA clocks, moved by domain events inside the writing transaction (the projector).

`project_event` is registered with `conversations.events.register_projector`, so every target change commits or
rolls back with the change that caused it, and no periodic scan ever recomputes targets. What each event does:

- `conversation.created`: the first matching policy is selected; `first_response` and `resolution` start.
- `message.created`: a public agent reply meets `first_response` and the open `next_response`; a customer message
  after the first response starts a `next_response` clock, unless one already runs for the unanswered messages.
- `conversation.status_changed`: entering a policy's `pause_on` status pauses the running clocks, leaving it
  resumes them; resolved/closed meets `resolution` and drops unanswered response clocks (nobody owes a reply on a
  solved case); reopening resumes `resolution` with the resolved time counted as paused.
- `conversation.priority_changed`, a team change, a contact's segment change: the policy is selected again; if it
  changed, running clocks keep the time already used and finish against the new target and calendar.

A target found overdue while handling an event is breached on the spot through the sweep's claim (so its
`sla.breached` still fires exactly once), rather than being met or paused late.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.core.exceptions import ValidationError

from conversations import payloads
from conversations.choices import EventType, SenderType, Status
from conversations.models import Conversation, Event
from conversations.prefetch import forget_related, remember_related
from sla.calendars import Calendar, add_business_time, clock_seconds_between
from sla.models import OPEN_TARGET_STATES, ConversationPolicy, Metric, SlaPolicy, SlaTarget, TargetState
from sla.policies import calendar_for, select_policy
from sla.sweep import claim_breaches

logger = logging.getLogger(__name__)
STOPPED_STATUSES = (Status.RESOLVED, Status.CLOSED)


# Clock arithmetic ---------------------------------------------------------------------------------------------


def _deadline(calendar: Calendar | None, start: dt.datetime, seconds: float) -> dt.datetime | None:
    """When `seconds` of clock time have passed; None if the calendar never opens again.

    A misconfigured calendar must not make every conversation write fail inside the projector, so it leaves the
    clock without a due time (logged) instead of raising.
    """
    seconds = max(seconds, 0.0)
    if calendar is None:
        return start + dt.timedelta(seconds=seconds)
    try:
        return add_business_time(calendar, start, dt.timedelta(seconds=seconds))
    except ValidationError:
        logger.warning("SLA calendar has no open time after %s; the clock gets no due time", start)
        return None


def _schedule(target: SlaTarget, policy: SlaPolicy | None) -> None:
    """Set due_at / warning_at of a running clock from the time it has left."""
    calendar = calendar_for(policy) if policy else None
    target.due_at = _deadline(calendar, target.resumed_at, target.target_seconds - target.consumed_seconds)
    percent = policy.warning_percent if policy else None
    if percent and not target.warned:
        warning_seconds = target.target_seconds * percent / 100 - target.consumed_seconds
        target.warning_at = _deadline(calendar, target.resumed_at, warning_seconds)
    else:
        target.warning_at = None


def _use_time(target: SlaTarget, now: dt.datetime) -> None:
    """Bank the time a running clock used since it last (re)started."""
    calendar = calendar_for(target.policy) if target.policy else None
    target.consumed_seconds += clock_seconds_between(calendar, target.resumed_at, now)
    target.resumed_at = now


def _pause(target: SlaTarget, now: dt.datetime) -> None:
    _use_time(target, now)
    target.state, target.paused_at, target.due_at, target.warning_at = TargetState.PAUSED, now, None, None


def _resume(target: SlaTarget, now: dt.datetime) -> None:
    target.paused_seconds += max((now - target.paused_at).total_seconds(), 0.0)
    target.state, target.paused_at, target.resumed_at = TargetState.ACTIVE, None, now
    _schedule(target, target.policy)


def _meet(target: SlaTarget, now: dt.datetime) -> None:
    if target.state == TargetState.PAUSED:
        target.paused_seconds += max((now - target.paused_at).total_seconds(), 0.0)
    else:
        _use_time(target, now)  # banked, so a reopened resolution clock continues where it stopped
    target.state, target.met_at, target.paused_at, target.warning_at = TargetState.MET, now, None, None


def _start(conversation: Conversation, policy: SlaPolicy, metric: str, started_at: dt.datetime) -> SlaTarget | None:
    minutes = policy.target_minutes(metric)
    if not minutes:
        return None
    target = SlaTarget(
        conversation=conversation,
        policy=policy,
        metric=metric,
        target_seconds=minutes * 60,
        started_at=started_at,
        resumed_at=started_at,
    )
    _schedule(target, policy)
    return target


def _save(targets: list[SlaTarget]) -> None:
    for target in targets:
        target.save()


# Loading state ------------------------------------------------------------------------------------------------


def _open_targets(conversation: Conversation, now: dt.datetime) -> list[SlaTarget]:
    """Running and paused clocks, locked; overdue ones are breached now (through the sweep's claim) and left out."""
    targets = list(
        SlaTarget.objects.select_for_update(of=("self",))
        .filter(conversation=conversation, state__in=OPEN_TARGET_STATES)
        .select_related("policy__business_hours")
    )
    overdue = [t.pk for t in targets if t.state == TargetState.ACTIVE and t.due_at and t.due_at <= now]
    if overdue:
        claim_breaches(overdue, now)
    return [t for t in targets if t.pk not in overdue]


def _current_policy(conversation: Conversation) -> SlaPolicy | None:
    assignment = (
        ConversationPolicy.objects.select_related("policy__business_hours").filter(conversation=conversation).first()
    )
    return assignment.policy if assignment else None


def _sync_pause(targets: list[SlaTarget], status: str, policy: SlaPolicy | None, now: dt.datetime) -> None:
    pausing = policy is not None and status in (policy.pause_on or [])
    for target in targets:
        if pausing and target.state == TargetState.ACTIVE:
            _pause(target, now)
        elif not pausing and target.state == TargetState.PAUSED:
            _resume(target, now)


def _awaiting_next_response(conversation: Conversation) -> bool:
    """The customer wrote after the last agent reply, and the first response was already given."""
    if conversation.first_response_at is None or conversation.last_customer_message_at is None:
        return False
    last_reply = conversation.last_agent_message_at
    return last_reply is None or conversation.last_customer_message_at > last_reply


def _cycle_has_clock(conversation: Conversation) -> bool:
    """A next_response clock already covers the messages since the last agent reply."""
    since = conversation.last_agent_message_at or conversation.created_at
    clocks = SlaTarget.objects.filter(conversation=conversation, metric=Metric.NEXT_RESPONSE)
    return clocks.filter(started_at__gte=since).exists()


# Event handlers -----------------------------------------------------------------------------------------------


def _missing_targets(conversation: Conversation, policy: SlaPolicy, open_metrics: set[str]) -> list[SlaTarget]:
    """Clocks the policy asks for that the conversation does not have yet (started when they would have started)."""
    if conversation.status in STOPPED_STATUSES:
        return []
    started: list[SlaTarget | None] = []
    has = set(SlaTarget.objects.filter(conversation=conversation).values_list("metric", flat=True)) | open_metrics
    if Metric.FIRST_RESPONSE not in has and conversation.first_response_at is None:
        started.append(_start(conversation, policy, Metric.FIRST_RESPONSE, conversation.created_at))
    if Metric.RESOLUTION not in has:
        started.append(_start(conversation, policy, Metric.RESOLUTION, conversation.created_at))
    if _awaiting_next_response(conversation) and not _cycle_has_clock(conversation):
        started.append(_start(conversation, policy, Metric.NEXT_RESPONSE, conversation.last_customer_message_at))
    return [target for target in started if target is not None]


def _switch_policy(targets: list[SlaTarget], policy: SlaPolicy | None, now: dt.datetime) -> list[SlaTarget]:
    """Move running clocks to another policy; returns the clocks the new policy keeps (others are dropped)."""
    kept = []
    for target in targets:
        minutes = policy.target_minutes(target.metric) if policy else None
        if not minutes:
            target.delete()
            continue
        if target.state == TargetState.ACTIVE:
            _use_time(target, now)
        target.policy, target.target_seconds = policy, minutes * 60
        if target.state == TargetState.ACTIVE:
            _schedule(target, policy)
        kept.append(target)
    return kept


def reselect_policy(conversation: Conversation, now: dt.datetime, *, new: bool = False) -> None:
    """Select the policy again; when it changed, move the clocks over and start the ones it adds.

    `new`: the conversation was created in this transaction, so it has no policy row and no clocks yet (two reads
    saved); the clocks started are remembered on it, so the API's response does not read them back.
    """
    policy = select_policy(conversation)
    if new:
        targets = _missing_targets(conversation, policy, set()) if policy else []
        if policy:
            ConversationPolicy.objects.create(conversation=conversation, policy=policy, selected_at=now)
            _sync_pause(targets, conversation.status, policy, now)
            _save(targets)
        remember_related(conversation, "sla_targets", targets)
        return
    assignment = ConversationPolicy.objects.filter(conversation=conversation).first()
    if assignment is None and policy is None:
        return  # never had a policy and still has none: no row, no clocks (the common case with no SLA set up)
    if assignment and assignment.policy_id == (policy.pk if policy else None):
        return
    if assignment is None:
        ConversationPolicy.objects.create(conversation=conversation, policy=policy, selected_at=now)
    else:
        assignment.policy, assignment.selected_at = policy, now
        assignment.save(update_fields=["policy", "selected_at"])
    targets = _switch_policy(_open_targets(conversation, now), policy, now)
    if policy:
        targets += _missing_targets(conversation, policy, {t.metric for t in targets})
    _sync_pause(targets, conversation.status, policy, now)
    _save(targets)


def _on_message(conversation: Conversation, event: Event, now: dt.datetime) -> None:
    message = payloads.payload_of(event, payloads.MessageCreated)
    sender_type, internal = message.get("sender_type"), message.get("internal")
    if sender_type == SenderType.AGENT and not internal:
        targets = [t for t in _open_targets(conversation, now) if t.metric != Metric.RESOLUTION]
        for target in targets:
            _meet(target, now)
        _save(targets)
    elif sender_type == SenderType.CUSTOMER and conversation.status != Status.CLOSED:
        if conversation.first_response_at is None:
            return  # fast path: before the first response no next_response clock starts, so no policy is read
        policy = _current_policy(conversation)
        if policy and not _cycle_has_clock(conversation):
            target = _start(conversation, policy, Metric.NEXT_RESPONSE, now)
            if target:
                _sync_pause([target], conversation.status, policy, now)
                _save([target])


def _on_status_changed(conversation: Conversation, event: Event, now: dt.datetime) -> None:
    targets = _open_targets(conversation, now)
    change = payloads.payload_of(event, payloads.StatusChanged)
    if change.get("to") in STOPPED_STATUSES:
        for target in targets:
            if target.metric == Metric.RESOLUTION:
                _meet(target, now)
            else:
                target.delete()
        _save([t for t in targets if t.metric == Metric.RESOLUTION])
        return
    if change.get("from") in STOPPED_STATUSES:
        targets += _reopen_resolution(conversation, now)
    _sync_pause(targets, conversation.status, _current_policy(conversation), now)
    _save(targets)


def _reopen_resolution(conversation: Conversation, now: dt.datetime) -> list[SlaTarget]:
    """A reopened conversation's met resolution clock runs again; the time it spent resolved counts as paused."""
    target = (
        SlaTarget.objects.select_for_update(of=("self",))
        .select_related("policy__business_hours")
        .filter(conversation=conversation, metric=Metric.RESOLUTION, state=TargetState.MET)
        .order_by("-id")
        .first()
    )
    if target is None:
        return []
    target.state, target.paused_at, target.met_at = TargetState.PAUSED, target.met_at, None
    _resume(target, now)
    return [target]


def _on_reselect(conversation: Conversation, event: Event, now: dt.datetime) -> None:
    if event.type == EventType.ASSIGNED:
        assignment = payloads.payload_of(event, payloads.Assigned)
        if (assignment.get("before") or {}).get("team_id") == assignment.get("team_id"):
            return
    reselect_policy(conversation, now)


HANDLERS: dict[str, Callable[[Conversation, Event, dt.datetime], None]] = {
    EventType.CONVERSATION_CREATED: lambda conversation, event, now: reselect_policy(conversation, now, new=True),
    EventType.MESSAGE_CREATED: _on_message,
    EventType.STATUS_CHANGED: _on_status_changed,
    EventType.PRIORITY_CHANGED: _on_reselect,
    EventType.ASSIGNED: _on_reselect,
}


def project_event(event: Event) -> None:
    """The projector: update the SLA clocks of the conversation(s) an event touches. Ignores other events."""
    if event.type == EventType.CONTACT_UPDATED:
        if "segment" in (payloads.payload_of(event, payloads.ContactUpdated).get("fields") or []) and event.contact_id:
            for conversation in Conversation.objects.filter(contact_id=event.contact_id).exclude(
                status__in=STOPPED_STATUSES
            ):
                reselect_policy(conversation, event.occurred_at)
        return
    handler = HANDLERS.get(event.type)
    if handler is None or event.conversation_id is None:
        return
    # The service that recorded the event passed its (just updated) conversation: no need to read it again.
    conversation = event.conversation
    forget_related(conversation, "sla_targets")  # clocks remembered at creation are stale once an event moves them
    handler(conversation, event, event.occurred_at)

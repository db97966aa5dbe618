"""SLA triggers (docs/reference/triggers.md): a target reached its warning point, or was breached.

A breach event is recorded when the target breaches, which is too early for a workflow with `threshold_minutes`:
the `late_matches` hook (called by the engine's sweep) finds those breaches again once they are that late and still
unanswered, and the engine starts their runs (still one per workflow and event).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import payloads
from conversations.choices import EventType, SenderType, Status
from conversations.conf import helpdesk_setting
from conversations.models import Event, Message
from sla.models import Metric, SlaTarget, TargetState
from workflows.choices import WorkflowStatus
from workflows.models import Workflow
from workflows.triggers.registry import (
    Filter,
    TriggerType,
    any_in,
    from_payload,
    one_of,
    payload_one_of,
    schema,
    trigger_types,
)


def _target(event: Event) -> payloads.SlaTargetPayload:
    """The payload of an `sla.*` event, typed (its keys depend on the event type, so reads use `.get`)."""
    return payloads.payload_of(event, payloads.SlaTargetPayload)


METRICS = {"type": "array", "items": {"enum": list(Metric.values)}}
# SLA policies by id or name: an `sla.*` trigger may fire only for the targets of these policies.
POLICIES = {"type": "array", "items": {"type": ["string", "integer"]}}
POLICY_FILTER = one_of("policies", lambda event, data: [_target(event).get("policy_id"), _target(event).get("policy")])
# How long after reaching its threshold a breach may still start its workflow (covers sweeps that were down); it
# bounds the breach events each sweep reads again.
LATE_BREACH_LOOKBACK = dt.timedelta(hours=6)


def sla_breach_matches(config: dict[str, Any], metric: str | None, minutes_late: float) -> bool:
    """An `sla.breached` config matches a breach of `metric` once it is at least `threshold_minutes` late."""
    return any_in(config.get("metrics"), metric) and minutes_late >= float(config.get("threshold_minutes") or 0)


def _late_enough(config: dict[str, Any], event: Event, data: dict[str, Any]) -> bool:
    return float(_target(event).get("minutes_late") or 0) >= float(config["threshold_minutes"])


def late_breaches(now: dt.datetime) -> list[tuple[Workflow, Event]]:
    """Breach events of the last threshold + LATE_BREACH_LOOKBACK that are now late enough for an active workflow
    with `threshold_minutes` and still unanswered, and have no run of that workflow yet."""
    found = []
    for workflow in Workflow.objects.filter(trigger_type=EventType.SLA_BREACHED, status=WorkflowStatus.ACTIVE):
        threshold = (workflow.trigger_config or {}).get("threshold_minutes")
        if not threshold:
            continue
        since = now - dt.timedelta(minutes=float(threshold)) - LATE_BREACH_LOOKBACK
        breaches = (
            Event.objects.filter(
                type=EventType.SLA_BREACHED, occurred_at__gte=since, depth__lte=helpdesk_setting("MAX_DEPTH")
            )
            .exclude(workflow_runs__workflow=workflow)
            .select_related("conversation")
        )
        found += [
            (workflow, event)
            for event in breaches
            if _late_now(workflow, event, now)
            and POLICY_FILTER.check(workflow.trigger_config, event, {})
            and _still_breached(event)
        ]
    return found


def _late_now(workflow: Workflow, event: Event, now: dt.datetime) -> bool:
    payload = _target(event)
    due = payload.get("due_at")
    due_at = dt.datetime.fromisoformat(due) if due else event.occurred_at
    return sla_breach_matches(workflow.trigger_config, payload.get("metric"), (now - due_at).total_seconds() / 60)


def _still_breached(event: Event) -> bool:
    """The target is still breached and nobody has made up for it: no agent reply since it was due (response
    metrics) or the conversation not resolved (resolution). Closing a conversation drops its response targets."""
    target_id = _target(event).get("target_id")
    target = SlaTarget.objects.filter(pk=target_id, state=TargetState.BREACHED).first() if target_id else None
    if target is None or event.conversation is None:
        return False
    if target.metric == Metric.RESOLUTION:
        return event.conversation.status not in (Status.RESOLVED, Status.CLOSED)
    return not Message.objects.filter(
        conversation=event.conversation, sender_type=SenderType.AGENT, internal=False, created_at__gte=target.due_at
    ).exists()


trigger_types.register(
    TriggerType(
        EventType.SLA_WARNING,
        _("SLA warning"),
        schema({"metrics": METRICS, "policies": POLICIES}),
        (payload_one_of("metrics", "metric"), POLICY_FILTER),
        references={"policies": "sla_policy"},
    ),
    TriggerType(
        EventType.SLA_BREACHED,
        _("SLA breached"),
        schema({"metrics": METRICS, "threshold_minutes": {"type": "number", "minimum": 0}, "policies": POLICIES}),
        (
            payload_one_of("metrics", "metric"),
            Filter(
                "threshold_minutes",
                _late_enough,
                from_payload("minutes_late"),
                describe=lambda config, late: (
                    f"{float(late or 0):g} minutes late, below {float(config['threshold_minutes']):g}"
                ),
            ),
            POLICY_FILTER,
        ),
        late_matches=late_breaches,
        references={"policies": "sla_policy"},
    ),
)

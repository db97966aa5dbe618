"""The payload of every event type (docs/reference/events.md), typed, and the one constructor that builds each.

An event's payload is stored as JSON, so each type is a `TypedDict`: the dict the row holds is the typed value, with
no conversion on write or read. Services build payloads only through these constructors, so the keys a trigger
filter, an SLA clock or a webhook reads are declared in one place; readers name the type they expect with
`payload_of(event, MessageCreated)`. Ids are plain integers (or strings for event ids) so a payload survives the
rows it mentions.
"""

from __future__ import annotations

from typing import Any, TypedDict, TypeVar, cast

Payload = TypeVar("Payload")


def payload_of(event: Any, kind: type[Payload]) -> Payload:
    """The event's payload read as `kind` (the type its event type is recorded with): a typed view, no copy."""
    return cast(Payload, event.payload or {})


def _pk(actor: Any) -> int | None:
    return getattr(actor, "pk", None)


class ConversationCreated(TypedDict):
    status: str
    priority: str
    channel: str
    segment: str


def conversation_created(*, conversation: Any, segment: str) -> ConversationCreated:
    return {
        "status": conversation.status,
        "priority": conversation.priority,
        "channel": conversation.channel,
        "segment": segment,
    }


class MessageCreated(TypedDict):
    message_id: int
    sender_type: str
    internal: bool
    channel: str
    sentiment: float | None
    sentiment_before: float | None
    sentiment_after: float | None


def message_created(
    *, message: Any, channel: str, sentiment_before: float | None, sentiment_after: float | None
) -> MessageCreated:
    return {
        "message_id": message.pk,
        "sender_type": message.sender_type,
        "internal": message.internal,
        "channel": channel,
        "sentiment": message.sentiment,
        "sentiment_before": sentiment_before,
        "sentiment_after": sentiment_after,
    }


# "from" is a Python keyword, so the two change types with a from/to pair use the functional TypedDict syntax.
StatusChanged = TypedDict("StatusChanged", {"from": str, "to": str, "actor_id": "int | None"})
PriorityChanged = TypedDict("PriorityChanged", {"from": str, "to": str})


def status_changed(*, previous: str, status: str, actor: Any) -> StatusChanged:
    return {"from": previous, "to": status, "actor_id": _pk(actor)}


def priority_changed(*, previous: str, priority: str) -> PriorityChanged:
    return {"from": previous, "to": priority}


class Assignment(TypedDict):
    assignee_id: int | None
    team_id: int | None


class Assigned(Assignment, total=False):
    before: Assignment
    actor_id: int | None
    reason: str  # only for the queue's own assignments and hand-backs (docs/routing.md): queue, skills_timeout, ...


def assigned(*, before: Assignment, after: Assignment, actor: Any, reason: str = "") -> Assigned:
    payload = {"before": before, **after, "actor_id": _pk(actor)}
    if reason:
        payload["reason"] = reason
    return payload  # type: ignore[return-value]


class TagsChanged(TypedDict):
    added: list[str]
    removed: list[str]


def tags_changed(*, added: list[str] = (), removed: list[str] = ()) -> TagsChanged:  # type: ignore[assignment]
    return {"added": list(added), "removed": list(removed)}


class DispositionSet(TypedDict):
    disposition: str
    final: bool
    actor_id: int | None


def disposition_set(*, disposition: str, final: bool, actor: Any) -> DispositionSet:
    return {"disposition": disposition, "final": final, "actor_id": _pk(actor)}


class SentimentCrossed(TypedDict):
    message_id: int | None
    sentiment_before: float | None
    sentiment_after: float
    direction: str
    source_event_id: str


def sentiment_crossed(
    *, message_id: int | None, before: float | None, after: float, source_event_id: Any
) -> SentimentCrossed:
    direction = "up" if after > (0.5 if before is None else before) else "down"  # no average yet = neutral
    return {
        "message_id": message_id,
        "sentiment_before": before,
        "sentiment_after": after,
        "direction": direction,
        "source_event_id": str(source_event_id),
    }


class ContactCreated(TypedDict):
    contact_id: int


class ContactUpdated(ContactCreated):
    fields: list[str]
    attributes: list[str]


def contact_created(*, contact: Any) -> ContactCreated:
    return {"contact_id": contact.pk}


def contact_updated(*, contact: Any, fields: list[str], attributes: list[str]) -> ContactUpdated:
    return {"contact_id": contact.pk, "fields": fields, "attributes": attributes}


class RecordingUploaded(TypedDict):
    recording_id: int
    channel: str


def recording_uploaded(*, recording: Any, channel: str) -> RecordingUploaded:
    return {"recording_id": recording.pk, "channel": channel}


class TicketCreated(TypedDict):
    ticket_id: int
    title: str


def ticket_created(*, ticket: Any) -> TicketCreated:
    return {"ticket_id": ticket.pk, "title": ticket.title}


class SurveySent(TypedDict):
    survey_id: int
    via: str


class SurveyAnswered(TypedDict):
    survey_id: int
    score: int
    comment: str


def survey_sent(*, survey: Any) -> SurveySent:
    return {"survey_id": survey.pk, "via": survey.via}


def survey_answered(*, survey: Any) -> SurveyAnswered:
    return {"survey_id": survey.pk, "score": survey.score, "comment": survey.comment or ""}


class SlaTargetPayload(TypedDict, total=False):
    """`sla.warning` carries `warning_at`, `sla.breached` `breached_at` and `minutes_late`."""

    metric: str
    policy_id: int | None
    policy: str | None
    target_id: int
    target_minutes: int
    due_at: str | None
    warning_at: str
    breached_at: str
    minutes_late: int


def sla_target(*, target: Any, **moment: Any) -> SlaTargetPayload:
    payload = {
        "metric": target.metric,
        "policy_id": target.policy_id,
        "policy": target.policy.name if target.policy else None,
        "target_id": target.pk,
        "target_minutes": target.target_seconds // 60,
        "due_at": target.due_at.isoformat() if target.due_at else None,
        **moment,
    }
    return cast(SlaTargetPayload, payload)  # `moment` holds the breached_at / met_at / warned_at of the event


class ScheduleFired(TypedDict):
    workflow_id: int
    interval_minutes: int | None


def schedule_fired(*, workflow: Any) -> ScheduleFired:
    return {"workflow_id": workflow.pk, "interval_minutes": workflow.trigger_config.get("interval_minutes")}


class ScheduledEventFired(TypedDict):
    name: str
    scheduled_event_id: int
    scheduled_at: str


def scheduled_event_fired(*, scheduled: Any) -> ScheduledEventFired:
    return {
        "name": scheduled.name,
        "scheduled_event_id": scheduled.pk,
        "scheduled_at": scheduled.created_at.isoformat(),
    }


class ManualRun(TypedDict):
    workflow_id: int
    inputs: dict[str, Any]
    actor_id: int | None


def manual_run(*, workflow: Any, inputs: dict[str, Any] | None, actor: Any) -> ManualRun:
    return {"workflow_id": workflow.pk, "inputs": inputs or {}, "actor_id": _pk(actor)}


class FieldsChanged(TypedDict):
    keys: list[str]
    old: dict[str, Any]
    new: dict[str, Any]
    actor_id: int | None


def fields_changed(*, old: dict[str, Any], new: dict[str, Any], actor: Any) -> FieldsChanged:
    """The conversation field keys that changed, with their values before and after (None = empty)."""
    return {"keys": sorted(new), "old": old, "new": new, "actor_id": _pk(actor)}


# The agent's workspace (docs/agent_day.md) --------------------------------------------------------------------------------


class Snoozed(TypedDict):
    until: str
    actor_id: int | None


def snoozed(*, until: Any, actor: Any) -> Snoozed:
    return {"until": until.isoformat(), "actor_id": _pk(actor)}


class Unsnoozed(TypedDict):
    reason: str
    snoozed_until: str


def unsnoozed(*, reason: str, snoozed_until: Any) -> Unsnoozed:
    """`reason`: `time` (the sweep), `customer_message`, or `status_changed` (a person set another status)."""
    return {"reason": reason, "snoozed_until": snoozed_until.isoformat()}


class Merged(TypedDict):
    source: int
    target: int
    messages: int
    tags: list[str]
    actor_id: int | None


def merged(*, source: Any, target: Any, messages: int, tags: list[str], actor: Any) -> Merged:
    return {"source": source.pk, "target": target.pk, "messages": messages, "tags": list(tags), "actor_id": _pk(actor)}


class Linked(TypedDict):
    other: int
    kind: str
    actor_id: int | None


def linked(*, other: Any, kind: str, actor: Any) -> Linked:
    return {"other": other.pk, "kind": kind, "actor_id": _pk(actor)}


class TargetedRun(TypedDict):
    """What the payload of every targeted trigger's event (`manual`, `schedule`) has: the one workflow it starts."""

    workflow_id: int

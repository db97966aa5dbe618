"""Trigger types (SPEC §3): each declares the JSON Schema of its config and how an event matches it.

The dispatcher looks workflows up by trigger type in the database, then asks `matches` of each candidate. All
filters are optional: an empty config matches every event of the type.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from conversations import safe_regex
from conversations.choices import Channel, Disposition, EventType, SenderType, Status
from workflows import conditions, intents

STRING_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}
SLA_METRICS = ["first_response", "next_response", "resolution"]


def _any_in(configured: list | None, actual: Any) -> bool:
    """True when the filter is absent or `actual` is one of the configured values (case-insensitive)."""
    if not configured:
        return True
    actual_values = actual if isinstance(actual, (list, tuple, set)) else [actual]
    wanted = {str(value).casefold() for value in configured}
    return any(str(value).casefold() in wanted for value in actual_values if value is not None)


def _message_matches(config: dict, event, data: dict) -> bool:
    payload = event.payload
    if payload.get("internal") and not config.get("include_internal", False):
        return False
    if not _any_in(config.get("sender_types"), payload.get("sender_type")):
        return False
    if not _any_in(config.get("channels"), payload.get("channel")):
        return False
    body = (data.get("message") or {}).get("body", "")
    if config.get("content_contains"):
        folded = body.casefold()
        if not any(word.casefold() in folded for word in config["content_contains"]):
            return False
    if config.get("content_regex") and not safe_regex.search(config["content_regex"], body):
        return False
    if config.get("intents") and not intents.matches(config["intents"], body, config.get("intent_threshold")):
        return False
    return True


def _message_errors(config: dict) -> list[tuple[str, str]]:
    """A bad regex, or an intent phrase with nothing to match on; compiling the phrases here also builds their
    index at save time, so matching a message never does it."""
    return _regex_errors(config) + intents.phrase_errors(config.get("intents") or [])


def sentiment_crossed(config: dict, before: float | None, after: float | None) -> bool:
    """True when the average moved from outside to inside the configured side (`<` or `>` the threshold): once on
    the crossing, and again only after it has crossed back. No average before counts as outside."""
    if after is None:
        return False
    threshold = float(config.get("threshold", 0.5))
    inside = (lambda value: value < threshold) if config.get("operator", "<") == "<" else (
        lambda value: value > threshold)
    return inside(after) and (before is None or not inside(before))


def _sentiment_matches(config: dict, event, data: dict) -> bool:
    payload = event.payload
    return sentiment_crossed(config, payload.get("sentiment_before"), payload.get("sentiment_after"))


def _assigned_matches(config: dict, event, data: dict) -> bool:
    conversation = data.get("conversation") or {}
    return _any_in(config.get("teams"), [conversation.get("team"), conversation.get("team_id")]) and _any_in(
        config.get("agents"), [conversation.get("assignee"), conversation.get("assignee_id"),
                               conversation.get("assignee_email")])


def _disposition_matches(config: dict, event, data: dict) -> bool:
    payload = event.payload
    if "final" in config and config["final"] is not None and bool(config["final"]) != bool(payload.get("final")):
        return False
    return _any_in(config.get("dispositions"), payload.get("disposition"))


def sla_breach_matches(config: dict, metric: str | None, minutes_late: float) -> bool:
    """An `sla.breached` config matches a breach of `metric` once it is at least `threshold_minutes` late. The
    breach event is recorded when the target breaches; the sweep asks again later for thresholds above zero."""
    if not _any_in(config.get("metrics"), metric):
        return False
    return minutes_late >= float(config.get("threshold_minutes") or 0)


def _sla_matches(config: dict, event, data: dict) -> bool:
    payload = event.payload
    return sla_breach_matches(config, payload.get("metric"), float(payload.get("minutes_late") or 0))


def _targeted(config: dict, event, data: dict) -> bool:
    return True  # schedule and manual events name their workflow; the dispatcher selects it by id


def _regex_errors(config: dict) -> list[tuple[str, str]]:
    problem = safe_regex.pattern_error(config["content_regex"]) if "content_regex" in config else None
    return [("content_regex", problem)] if problem else []


def _schedule_errors(config: dict) -> list[tuple[str, str]]:
    return [(f"match.{key}" if key else "match", message)
            for key, message in conditions.validate(config.get("match") or {}, query_only=True)]


@dataclass(frozen=True)
class TriggerType:
    type: str
    label: str
    schema: dict
    matches: Callable[[dict, Any, dict], bool]
    validate: Callable[[dict], list[tuple[str, str]]] = lambda config: []
    targeted: bool = False  # events name the one workflow they are for (schedule, manual)


def _schema(properties: dict, required: tuple = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


TRIGGER_TYPES: dict[str, TriggerType] = {t.type: t for t in [
    TriggerType(EventType.CONVERSATION_CREATED, "New conversation",
                _schema({"channels": {"type": "array", "items": {"enum": list(Channel.values)}},
                         "segments": STRING_LIST}),
                lambda c, e, d: _any_in(c.get("channels"), e.payload.get("channel"))
                and _any_in(c.get("segments"), (d.get("contact") or {}).get("segment"))),
    TriggerType(EventType.MESSAGE_CREATED, "New message",
                _schema({"sender_types": {"type": "array", "items": {"enum": list(SenderType.values)}},
                         "channels": {"type": "array", "items": {"enum": list(Channel.values)}},
                         "content_contains": STRING_LIST, "content_regex": {"type": "string", "minLength": 1},
                         "intents": {**STRING_LIST, "minItems": 1, "maxItems": 100},
                         "intent_threshold": {"type": "number", "minimum": 0, "maximum": 1},
                         "include_internal": {"type": "boolean"}}),
                _message_matches, validate=_message_errors),
    TriggerType(EventType.STATUS_CHANGED, "Status changed",
                _schema({"from": {"type": "array", "items": {"enum": list(Status.values)}},
                         "to": {"type": "array", "items": {"enum": list(Status.values)}}}),
                lambda c, e, d: _any_in(c.get("from"), e.payload.get("from"))
                and _any_in(c.get("to"), e.payload.get("to"))),
    TriggerType(EventType.ASSIGNED, "Conversation assigned",
                _schema({"teams": {"type": "array", "items": {"type": ["string", "integer"]}},
                         "agents": {"type": "array", "items": {"type": ["string", "integer"]}}}),
                _assigned_matches),
    TriggerType(EventType.DISPOSITION_SET, "Disposition set",
                _schema({"dispositions": {"type": "array", "items": {"enum": list(Disposition.values)}},
                         "final": {"type": ["boolean", "null"]}}),
                _disposition_matches),
    TriggerType(EventType.SENTIMENT_CROSSED, "Sentiment crossed a threshold",
                _schema({"operator": {"enum": ["<", ">"]},
                         "threshold": {"type": "number", "minimum": 0, "maximum": 1}}),
                _sentiment_matches),
    TriggerType(EventType.CONTACT_UPDATED, "Contact updated",
                _schema({"attributes": STRING_LIST}),
                lambda c, e, d: _any_in(c.get("attributes"), e.payload.get("attributes") or [])),
    TriggerType(EventType.RECORDING_UPLOADED, "Recording uploaded",
                _schema({"channels": {"type": "array", "items": {"enum": list(Channel.values)}}}),
                lambda c, e, d: _any_in(c.get("channels"), e.payload.get("channel"))),
    TriggerType(EventType.SLA_WARNING, "SLA warning",
                _schema({"metrics": {"type": "array", "items": {"enum": SLA_METRICS}}}),
                lambda c, e, d: _any_in(c.get("metrics"), e.payload.get("metric"))),
    TriggerType(EventType.SLA_BREACHED, "SLA breached",
                _schema({"metrics": {"type": "array", "items": {"enum": SLA_METRICS}},
                         "threshold_minutes": {"type": "number", "minimum": 0}}),
                _sla_matches),
    TriggerType(EventType.SCHEDULE, "Schedule",
                _schema({"interval_minutes": {"type": "integer", "minimum": 1, "maximum": 525600},
                         "match": {"type": "object"}}, required=("interval_minutes",)),
                _targeted, validate=_schedule_errors, targeted=True),
    TriggerType(EventType.SCHEDULED_EVENT_FIRED, "Scheduled event fired",
                _schema({"names": STRING_LIST}),
                lambda c, e, d: _any_in(c.get("names"), e.payload.get("name"))),
    TriggerType(EventType.MANUAL, "Manual / AI decision",
                _schema({"inputs": {"type": "object"}}), _targeted, targeted=True),
]}


CONDITIONS_KEY = "conditions"
CONDITIONS_SCHEMA = {"type": "object", "description": "Start the workflow only when these hold (e.g. the contact "
                                                       "is a VIP, or the message came outside business hours)."}


def _with_conditions(kind: TriggerType) -> TriggerType:
    """Give an event trigger the optional `conditions` filter: the same condition tree as a condition step, evaluated
    over the event's context before any run exists, so memory (`contact.attributes.*`), conversation fields or the
    message decide whether the workflow starts at all. Targeted triggers (schedule, manual) name their workflow."""
    if kind.targeted:
        return kind
    base_matches, base_validate = kind.matches, kind.validate

    def matches(config: dict, event, data: dict) -> bool:
        return base_matches(config, event, data) and conditions.evaluate(config.get(CONDITIONS_KEY) or {}, data)

    def validate(config: dict) -> list[tuple[str, str]]:
        return base_validate(config) + conditions.validate(config.get(CONDITIONS_KEY) or {}, CONDITIONS_KEY)

    schema = {**kind.schema, "properties": {**kind.schema["properties"], CONDITIONS_KEY: CONDITIONS_SCHEMA}}
    return replace(kind, schema=schema, matches=matches, validate=validate)


TRIGGER_TYPES = {name: _with_conditions(kind) for name, kind in TRIGGER_TYPES.items()}


def trigger_type(name: str) -> TriggerType | None:
    """The trigger type called `name`, or None."""
    return TRIGGER_TYPES.get(name)

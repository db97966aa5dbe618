"""Trigger types (SPEC §3): each declares the JSON Schema of its config and how an event matches it.

The dispatcher looks workflows up by trigger type in the database, then asks `matches` of each candidate. All
filters are optional: an empty config matches every event of the type.
"""
from __future__ import annotations

import json
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
CONDITIONS_SCHEMA = {"type": "object", "description": "A condition tree (§4) over the event's context, e.g. "
                                                       "contact.attributes.vip eq true; the workflow starts only "
                                                       "when it holds."}


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


# Explaining a miss ------------------------------------------------------------------------------------------
# `matches` stays a plain boolean on the hot path; `explain` re-asks the same predicates one filter key at a time, only
# when a person wants to know why a workflow did not start, and says which key failed and what value it saw.

FilterCheck = Callable[[dict, Any, dict], "str | None"]
SHOWN_CHARS = 120


def shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 2] + '…"'


def _body(data: dict) -> str:
    return (data.get("message") or {}).get("body", "")


def _among(key: str, seen: Callable[[Any, dict], Any]) -> FilterCheck:
    """The check of a list filter: the value seen is one of the configured values."""
    def check(config: dict, event, data: dict) -> str | None:
        actual = seen(event, data)
        if _any_in(config.get(key), actual):
            return None
        return f"{key}: {shown(actual)} is not one of {shown(config[key])}"
    return check


def _payload(name: str) -> Callable[[Any, dict], Any]:
    return lambda event, data: (event.payload or {}).get(name)


def _internal_check(config: dict, event, data: dict) -> str | None:
    if (event.payload or {}).get("internal") and not config.get("include_internal", False):
        return "include_internal: the message is an internal note and internal notes are not included"
    return None


def _contains_check(config: dict, event, data: dict) -> str | None:
    words = config.get("content_contains")
    if not words or any(word.casefold() in _body(data).casefold() for word in words):
        return None
    return f"content_contains: none of {shown(words)} in {shown(_body(data))}"


def _regex_check(config: dict, event, data: dict) -> str | None:
    pattern = config.get("content_regex")
    if not pattern or safe_regex.search(pattern, _body(data)):
        return None
    return f"content_regex: {shown(pattern)} not found in {shown(_body(data))}"


def _intents_check(config: dict, event, data: dict) -> str | None:
    phrases = config.get("intents")
    if not phrases or intents.matches(phrases, _body(data), config.get("intent_threshold")):
        return None
    return f"intents: {shown(_body(data))} means none of {shown(phrases)}"


def _final_check(config: dict, event, data: dict) -> str | None:
    if "final" not in config or config["final"] is None:
        return None
    final = bool((event.payload or {}).get("final"))
    return None if bool(config["final"]) == final else f"final: the disposition is {'' if final else 'not '}final"


def _sentiment_check(config: dict, event, data: dict) -> str | None:
    if _sentiment_matches(config, event, data):
        return None
    payload = event.payload or {}
    return (f"threshold: the average went from {shown(payload.get('sentiment_before'))} to "
            f"{shown(payload.get('sentiment_after'))}, not across {config.get('operator', '<')} "
            f"{config.get('threshold', 0.5)}")


def _late_check(config: dict, event, data: dict) -> str | None:
    late = float((event.payload or {}).get("minutes_late") or 0)
    wanted = float(config.get("threshold_minutes") or 0)
    return None if late >= wanted else f"threshold_minutes: {late:g} minutes late, below {wanted:g}"


def _conditions_check(config: dict, event, data: dict) -> str | None:
    tree = config.get(CONDITIONS_KEY) or {}
    if conditions.evaluate(tree, data):
        return None
    false = [f"{check['field']} {check['op']} {shown(check['value'])} (saw {shown(check['actual'])})"
             for check in conditions.explain(tree, data) if not check["result"]]
    return f"{CONDITIONS_KEY}: {'; '.join(false) or 'the condition tree is false'}"


_CHANNEL = _among("channels", _payload("channel"))
FILTER_CHECKS: dict[str, list[FilterCheck]] = {
    EventType.CONVERSATION_CREATED: [_CHANNEL, _among("segments", lambda e, d: (d.get("contact") or {}).get("segment"))],
    EventType.MESSAGE_CREATED: [_internal_check, _among("sender_types", _payload("sender_type")), _CHANNEL,
                                _contains_check, _regex_check, _intents_check],
    EventType.STATUS_CHANGED: [_among("from", _payload("from")), _among("to", _payload("to"))],
    EventType.ASSIGNED: [
        _among("teams", lambda e, d: [(d.get("conversation") or {}).get(k) for k in ("team", "team_id")]),
        _among("agents", lambda e, d: [(d.get("conversation") or {}).get(k)
                                       for k in ("assignee", "assignee_id", "assignee_email")])],
    EventType.DISPOSITION_SET: [_final_check, _among("dispositions", _payload("disposition"))],
    EventType.SENTIMENT_CROSSED: [_sentiment_check],
    EventType.CONTACT_UPDATED: [_among("attributes", lambda e, d: (e.payload or {}).get("attributes") or [])],
    EventType.RECORDING_UPLOADED: [_CHANNEL],
    EventType.SLA_WARNING: [_among("metrics", _payload("metric"))],
    EventType.SLA_BREACHED: [_among("metrics", _payload("metric")), _late_check],
    EventType.SCHEDULED_EVENT_FIRED: [_among("names", _payload("name"))],
}


def explain(name: str, config: dict, event, data: dict) -> str | None:
    """Why an event of trigger type `name` does not match `config`: the first filter key that fails and the value it
    saw (e.g. `content_contains: none of ["refund"] in "where is my parcel"`), or None when it matches."""
    kind = trigger_type(name)
    if kind is None or kind.targeted:
        return None
    for check in [*FILTER_CHECKS.get(name, []), _conditions_check]:
        reason = check(config or {}, event, data)
        if reason:
            return reason
    return None


def trigger_type(name: str) -> TriggerType | None:
    """The trigger type called `name`, or None."""
    return TRIGGER_TYPES.get(name)

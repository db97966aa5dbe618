"""Message triggers (docs/reference/triggers.md): a message was added, and the conversation's average sentiment crossed
a threshold.

`conversation.sentiment_crossed` is derived: the dispatcher hands every dispatched batch to `derive`, which records
a crossing event for a customer message that moved the average across the threshold of an active workflow.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import payloads, safe_regex
from conversations.choices import Channel, EventType, SenderType
from conversations.events import record_event
from conversations.models import Event
from workflows.choices import WorkflowStatus
from workflows.models import Workflow
from workflows.triggers import intents
from workflows.triggers.registry import (
    STRING_LIST,
    Filter,
    TriggerType,
    from_payload,
    payload_one_of,
    schema,
    shown,
    trigger_types,
)


def _body(event: Event, data: dict[str, Any]) -> str:
    return str((data.get("message") or {}).get("body", ""))


def _contains_any(config: dict[str, Any], event: Event, data: dict[str, Any]) -> bool:
    folded = _body(event, data).casefold()
    return any(word.casefold() in folded for word in config["content_contains"])


def _internal_allowed(config: dict[str, Any], event: Event, data: dict[str, Any]) -> bool:
    """Internal notes start no workflow unless the trigger asks for them."""
    return not payloads.payload_of(event, payloads.MessageCreated).get("internal") or bool(
        config.get("include_internal", False)
    )


def _message_errors(config: dict[str, Any]) -> list[tuple[str, str]]:
    """A bad regex, or an intent phrase with nothing to match on; compiling the phrases here also builds their
    index at save time, so matching a message never does it."""
    problem = safe_regex.pattern_error(config["content_regex"]) if "content_regex" in config else None
    return ([("content_regex", problem)] if problem else []) + intents.phrase_errors(config.get("intents") or [])


MESSAGE_FILTERS = (
    Filter(
        "include_internal",
        _internal_allowed,
        from_payload("internal"),
        always=True,
        describe=lambda config, seen: "the message is an internal note and internal notes are not included",
    ),
    payload_one_of("sender_types", "sender_type"),
    payload_one_of("channels", "channel"),
    Filter(
        "content_contains",
        _contains_any,
        _body,
        describe=lambda config, body: f"none of {shown(config['content_contains'])} in {shown(body)}",
    ),
    Filter(
        "content_regex",
        lambda config, event, data: bool(safe_regex.search(config["content_regex"], _body(event, data))),
        _body,
        describe=lambda config, body: f"{shown(config['content_regex'])} not found in {shown(body)}",
    ),
    Filter(
        "intents",
        lambda config, event, data: intents.matches(
            config["intents"], _body(event, data), config.get("intent_threshold")
        ),
        _body,
        describe=lambda config, body: f"{shown(body)} means none of {shown(config['intents'])}",
    ),
)


def sentiment_crossed(config: dict[str, Any], before: float | None, after: float | None) -> bool:
    """True when the average moved from outside to inside the configured side (`<` or `>` the threshold): once on
    the crossing, and again only after it has crossed back. No average before counts as outside."""
    if after is None:
        return False
    threshold = float(config.get("threshold", 0.5))
    below = config.get("operator", "<") == "<"

    def inside(value: float) -> bool:
        return value < threshold if below else value > threshold

    return inside(after) and (before is None or not inside(before))


def _crossing_matches(config: dict[str, Any], event: Event, data: dict[str, Any]) -> bool:
    payload = payloads.payload_of(event, payloads.SentimentCrossed)
    return sentiment_crossed(config, payload.get("sentiment_before"), payload.get("sentiment_after"))


def _seen_averages(event: Event, data: dict[str, Any]) -> tuple[Any, ...]:
    payload = payloads.payload_of(event, payloads.SentimentCrossed)
    return payload.get("sentiment_before"), payload.get("sentiment_after")


def _describe_crossing(config: dict[str, Any], averages: tuple[Any, ...]) -> str:
    return (
        f"the average went from {shown(averages[0])} to {shown(averages[1])}, not across "
        f"{config.get('operator', '<')} {config.get('threshold', 0.5)}"
    )


def record_sentiment_crossing(event: Event, configs: list[dict[str, Any]]) -> Event | None:
    """Record `conversation.sentiment_crossed` when a message moved the average across the threshold of one of
    `configs` (the active sentiment trigger configs); the new event is dispatched like any other."""
    payload = payloads.payload_of(event, payloads.MessageCreated)
    before, after = payload.get("sentiment_before"), payload.get("sentiment_after")
    if event.type != EventType.MESSAGE_CREATED or after is None or before == after:
        return None
    if not any(sentiment_crossed(config or {}, before, after) for config in configs):
        return None
    return record_event(
        type=EventType.SENTIMENT_CROSSED,
        conversation=event.conversation,
        depth=event.depth,
        payload=payloads.sentiment_crossed(
            message_id=payload.get("message_id"), before=before, after=after, source_event_id=event.pk
        ),
    )


def record_sentiment_crossings(events: list[Event]) -> None:
    """The derive hook: one query for the active sentiment configs, and only when a message moved an average."""
    candidates = [
        event
        for event in events
        if event.type == EventType.MESSAGE_CREATED
        and payloads.payload_of(event, payloads.MessageCreated).get("sentiment_after") is not None
    ]
    if not candidates:
        return
    configs = list(
        Workflow.objects.filter(trigger_type=EventType.SENTIMENT_CROSSED, status=WorkflowStatus.ACTIVE).values_list(
            "trigger_config", flat=True
        )
    )
    for event in candidates if configs else []:
        record_sentiment_crossing(event, configs)


trigger_types.register(
    TriggerType(
        EventType.MESSAGE_CREATED,
        _("New message"),
        schema(
            {
                "sender_types": {"type": "array", "items": {"enum": list(SenderType.values)}},
                "channels": {"type": "array", "items": {"enum": list(Channel.values)}},
                "content_contains": STRING_LIST,
                "content_regex": {"type": "string", "minLength": 1},
                "intents": {**STRING_LIST, "minItems": 1, "maxItems": 100},
                "intent_threshold": {"type": "number", "minimum": 0, "maximum": 1},
                "include_internal": {"type": "boolean"},
            }
        ),
        MESSAGE_FILTERS,
        validate=_message_errors,
    ),
    TriggerType(
        EventType.SENTIMENT_CROSSED,
        _("Sentiment crossed a threshold"),
        schema({"operator": {"enum": ["<", ">"]}, "threshold": {"type": "number", "minimum": 0, "maximum": 1}}),
        (Filter("threshold", _crossing_matches, _seen_averages, always=True, describe=_describe_crossing),),
        derive=record_sentiment_crossings,
    ),
)

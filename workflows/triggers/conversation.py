"""Conversation triggers (docs/reference/triggers.md, docs/managers.md): a conversation opened, its status, assignment,
disposition, priority, tags or fields changed."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import payloads
from conversations.choices import AssignReason, Channel, Disposition, EventType, Priority, Status
from conversations.models import Event
from workflows.triggers.registry import (
    STRING_LIST,
    Filter,
    TriggerType,
    from_payload,
    one_of,
    payload_one_of,
    schema,
    trigger_types,
)

CHANNELS = {"type": "array", "items": {"enum": list(Channel.values)}}
STATUSES = {"type": "array", "items": {"enum": list(Status.values)}}
PRIORITIES = {"type": "array", "items": {"enum": list(Priority.values)}}
REFERENCES = {"type": "array", "items": {"type": ["string", "integer"]}}


def _conversation(data: dict[str, Any]) -> dict[str, Any]:
    return data.get("conversation") or {}


def _final_matches(config: dict[str, Any], event: Event, data: dict[str, Any]) -> bool:
    return bool(config["final"]) == bool(payloads.payload_of(event, payloads.DispositionSet).get("final"))


trigger_types.register(
    TriggerType(
        EventType.CONVERSATION_CREATED,
        _("New conversation"),
        schema({"channels": CHANNELS, "segments": {"type": "array", "items": {"type": "string"}}}),
        (
            payload_one_of("channels", "channel"),
            one_of("segments", lambda event, data: (data.get("contact") or {}).get("segment")),
        ),
    ),
    TriggerType(
        EventType.STATUS_CHANGED,
        _("Status changed"),
        schema({"from": STATUSES, "to": STATUSES}),
        (payload_one_of("from"), payload_one_of("to")),
    ),
    TriggerType(
        EventType.ASSIGNED,
        _("Conversation assigned"),
        schema(
            {
                "teams": REFERENCES,
                "agents": REFERENCES,
                "reasons": {"type": "array", "items": {"enum": list(AssignReason.values)}},
            }
        ),
        (
            one_of("teams", lambda event, data: [_conversation(data).get("team"), _conversation(data).get("team_id")]),
            one_of(
                "agents",
                lambda event, data: [
                    _conversation(data).get(key) for key in ("assignee", "assignee_id", "assignee_email")
                ],
            ),
            # The queue's own assignments and hand-backs carry a reason (docs/routing.md); a person's have none.
            payload_one_of("reasons", "reason"),
        ),
        references={"teams": "team", "agents": "agent"},
    ),
    TriggerType(
        EventType.DISPOSITION_SET,
        _("Disposition set"),
        schema(
            {
                "dispositions": {"type": "array", "items": {"enum": list(Disposition.values)}},
                "final": {"type": ["boolean", "null"]},
            }
        ),
        (
            Filter(
                "final",
                _final_matches,
                from_payload("final"),
                describe=lambda config, final: f"the disposition is {'' if final else 'not '}final",
            ),
            payload_one_of("dispositions", "disposition"),
        ),
    ),
)


trigger_types.register(
    TriggerType(
        EventType.PRIORITY_CHANGED,
        _("Priority changed"),
        schema({"from": PRIORITIES, "to": PRIORITIES}),
        (payload_one_of("from"), payload_one_of("to")),
    ),
    # A tag filter matches when any of the listed tags was added (or removed) by the change.
    TriggerType(
        EventType.TAGS_CHANGED,
        _("Tags changed"),
        schema({"added": STRING_LIST, "removed": STRING_LIST}),
        (payload_one_of("added"), payload_one_of("removed")),
    ),
    TriggerType(
        EventType.FIELDS_CHANGED,
        _("Conversation fields changed"),
        schema({"keys": STRING_LIST}),
        (payload_one_of("keys"),),
    ),
)

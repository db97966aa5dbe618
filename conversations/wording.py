"""Codes in words, for every page a person reads: one label map built from the domain's choices (so `on_hold` reads
"On hold" and `live_chat` "Live chat" wherever it shows), and a domain event as a sentence ("Customer message
“where is my parcel” on Conversation #12") instead of its type and payload with ids.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from conversations.choices import Channel, Disposition, EventType, Priority, SenderType, Status, SurveyChannel
from conversations.models import Event, Message
from conversations.timefmt import when

EXCERPT = 60
# A timestamp as the run context writes it (ISO 8601 with an offset): shown in the viewer's zone and format.
ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
# One label map: the labels of the domain's choices (Django's own), plus the few codes outside them.
VALUE_LABELS: dict[str, str] = {
    str(value): str(text)
    for choices in (Channel, Status, Priority, SenderType, Disposition, SurveyChannel)
    for value, text in choices.choices
} | {
    "first_response": "First response", "next_response": "Next response", "resolution": "Resolution",
    "least_busy": "Least busy", "round_robin": "Round robin", "specific": "Specific agent",
    "true": "Yes", "false": "No", "True": "Yes", "False": "No",
}
EVENT_LABELS: dict[str, str] = {
    EventType.CONVERSATION_CREATED: "New conversation", EventType.MESSAGE_CREATED: "Message",
    EventType.STATUS_CHANGED: "Status changed", EventType.ASSIGNED: "Assignment changed",
    EventType.PRIORITY_CHANGED: "Priority changed", EventType.TAGS_CHANGED: "Tags changed",
    EventType.DISPOSITION_SET: "Disposition set", EventType.SENTIMENT_CROSSED: "Sentiment crossed a threshold",
    EventType.CONTACT_CREATED: "New contact", EventType.CONTACT_UPDATED: "Contact updated",
    EventType.RECORDING_UPLOADED: "Recording uploaded", EventType.TICKET_CREATED: "Ticket created",
    EventType.SURVEY_SENT: "Survey sent", EventType.SURVEY_ANSWERED: "Survey answered",
    EventType.SLA_WARNING: "SLA warning", EventType.SLA_BREACHED: "SLA breached",
    EventType.SCHEDULE: "Scheduled check", EventType.SCHEDULED_EVENT_FIRED: "Scheduled event fired",
    EventType.MANUAL: "Started by hand",
    EventType.FIELDS_CHANGED: "Fields changed",
    EventType.SNOOZED: "Snoozed", EventType.UNSNOOZED: "Woke from snooze", EventType.MERGED: "Merged",
    EventType.LINKED: "Linked", EventType.UNLINKED: "Unlinked",
}


def label(value: Any) -> str:
    """A code in words: its choice label, "Yes"/"No" for booleans, lists joined; unknown codes de-underscored."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (list, tuple)):
        return ", ".join(label(item) for item in value) or "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return when(value)
    text = str(value)
    if ISO_MOMENT.match(text):
        return when(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    return VALUE_LABELS.get(text) or (text.replace("_", " ").capitalize() if "_" in text else text)


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(event: Event, payload: dict, fetch: bool = True) -> str:
    body = payload.get("body")
    if body is None and fetch and payload.get("message_id"):
        body = Message.objects.filter(pk=payload["message_id"]).values_list("body", flat=True).first()
    sender = label(payload.get("sender_type") or "").lower() if payload.get("sender_type") else ""
    kind = "internal note" if payload.get("internal") else "message"
    quoted = f" “{excerpt(body)}”" if body else ""
    return f"{sender} {kind}{quoted}".strip().capitalize()


def _changed(name: str) -> Callable[[Event, dict], str]:
    return lambda event, payload: f"{name} changed from {label(payload.get('from'))} to {label(payload.get('to'))}"


def _tags(event: Event, payload: dict) -> str:
    parts = [f"{verb} {', '.join(payload[key])}" for key, verb in (("added", "added"), ("removed", "removed"))
             if payload.get(key)]
    return "Tags " + " and ".join(parts) if parts else "Tags changed"


DETAILS: dict[str, Callable[[Event, dict], str]] = {
    EventType.CONVERSATION_CREATED: lambda e, p: f"New {label(p.get('channel'))} conversation",
    EventType.STATUS_CHANGED: _changed("Status"),
    EventType.PRIORITY_CHANGED: _changed("Priority"),
    EventType.TAGS_CHANGED: _tags,
    EventType.DISPOSITION_SET: lambda e, p: f"Disposition set to {label(p.get('disposition'))}",
    EventType.SLA_WARNING: lambda e, p: f"SLA warning for {label(p.get('metric')).lower()}",
    EventType.SLA_BREACHED: lambda e, p: f"SLA breached for {label(p.get('metric')).lower()}",
    EventType.SCHEDULED_EVENT_FIRED: lambda e, p: f"Scheduled event “{p.get('name', '')}” fired",
    EventType.SURVEY_ANSWERED: lambda e, p: f"Survey answered with {p.get('score')} of 5",
    EventType.FIELDS_CHANGED: lambda e, p: f"Fields changed: {', '.join(p.get('keys') or []) or '—'}",
    EventType.SNOOZED: lambda e, p: f"Snoozed until {label(p.get('until'))}",
    EventType.UNSNOOZED: lambda e, p: {"time": "Woke from snooze (its time came)",
                                       "customer_message": "Woke from snooze (the customer wrote)"}.get(
        p.get("reason"), "Snooze ended (status changed)"),
    EventType.MERGED: lambda e, p: f"Conversation #{p.get('source')} merged into #{p.get('target')}",
    EventType.LINKED: lambda e, p: f"Linked #{p.get('other')} as {label(p.get('kind'))}",
    EventType.UNLINKED: lambda e, p: f"Unlinked #{p.get('other')}",
}


def event_sentence(event: Event, *, on_conversation: bool = True) -> str:
    """What happened, and to what, in one line (no ids other than the conversation's number). On the conversation's
    own page (`on_conversation=False`) it leaves the conversation out and reads no message (no query per row)."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    if event.type == EventType.MESSAGE_CREATED:
        what = _message(event, payload, fetch=on_conversation)
    else:
        detail = DETAILS.get(event.type)
        what = detail(event, payload) if detail else EVENT_LABELS.get(event.type, label(event.type))
    if event.conversation_id and on_conversation:
        return f"{what} on Conversation #{event.conversation_id}"
    return what

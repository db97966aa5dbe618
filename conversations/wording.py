"""Codes in words, for every page a person reads: one label map built from the domain's choices (so `on_hold` reads
"On hold" and `live_chat` "Live chat" wherever it shows), and a domain event as a sentence ("Customer message
“where is my parcel” on Conversation #12") instead of its type and payload with ids.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations.choices import Channel, Disposition, EventType, Priority, SenderType, Status, SurveyChannel
from conversations.models import Event, Message
from conversations.timefmt import when

EXCERPT = 60
# A timestamp as the run context writes it (ISO 8601 with an offset): shown in the viewer's zone and format.
ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
# One label map: the labels of the domain's choices (Django's own), plus the few codes outside them.
VALUE_LABELS: dict[str, Any] = {
    str(value): text
    for choices in (Channel, Status, Priority, SenderType, Disposition, SurveyChannel)
    for value, text in choices.choices
} | {
    "first_response": _("First response"),
    "next_response": _("Next response"),
    "resolution": _("Resolution"),
    "least_busy": _("Least busy"),
    "round_robin": _("Round robin"),
    "specific": _("Specific agent"),
    "true": _("Yes"),
    "false": _("No"),
    "True": _("Yes"),
    "False": _("No"),
}
EVENT_LABELS: dict[str, Any] = {
    EventType.CONVERSATION_CREATED: _("New conversation"),
    EventType.MESSAGE_CREATED: _("Message"),
    EventType.STATUS_CHANGED: _("Status changed"),
    EventType.ASSIGNED: _("Assignment changed"),
    EventType.PRIORITY_CHANGED: _("Priority changed"),
    EventType.TAGS_CHANGED: _("Tags changed"),
    EventType.DISPOSITION_SET: _("Disposition set"),
    EventType.SENTIMENT_CROSSED: _("Sentiment crossed a threshold"),
    EventType.CONTACT_CREATED: _("New contact"),
    EventType.CONTACT_UPDATED: _("Contact updated"),
    EventType.RECORDING_UPLOADED: _("Recording uploaded"),
    EventType.TICKET_CREATED: _("Ticket created"),
    EventType.SURVEY_SENT: _("Survey sent"),
    EventType.SURVEY_ANSWERED: _("Survey answered"),
    EventType.SLA_WARNING: _("SLA warning"),
    EventType.SLA_BREACHED: _("SLA breached"),
    EventType.SCHEDULE: _("Scheduled check"),
    EventType.SCHEDULED_EVENT_FIRED: _("Scheduled event fired"),
    EventType.MANUAL: _("Started by hand"),
    EventType.FIELDS_CHANGED: _("Fields changed"),
    EventType.SNOOZED: _("Snoozed"),
    EventType.UNSNOOZED: _("Woke from snooze"),
    EventType.MERGED: _("Merged"),
    EventType.LINKED: _("Linked"),
    EventType.UNLINKED: _("Unlinked"),
}


def label(value: Any) -> str:
    """A code in words: its choice label, "Yes"/"No" for booleans, lists joined; unknown codes de-underscored."""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, (list, tuple)):
        return ", ".join(label(item) for item in value) or "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return when(value)
    text = str(value)
    if ISO_MOMENT.match(text):
        return when(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    known = VALUE_LABELS.get(text)
    return str(known) if known else (text.replace("_", " ").capitalize() if "_" in text else text)


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(event: Event, payload: dict, fetch: bool = True) -> str:
    body = payload.get("body")
    if body is None and fetch and payload.get("message_id"):
        body = Message.objects.filter(pk=payload["message_id"]).values_list("body", flat=True).first()
    sender = label(payload.get("sender_type") or "") if payload.get("sender_type") else ""
    if payload.get("internal"):
        text = gettext("%(sender)s internal note") % {"sender": sender} if sender else gettext("Internal note")
    else:
        text = gettext("%(sender)s message") % {"sender": sender} if sender else gettext("Message")
    return f"{text} “{excerpt(body)}”" if body else text


def _changed(name: Any) -> Callable[[Event, dict], str]:
    return lambda event, payload: (
        gettext("%(name)s changed from %(old)s to %(new)s")
        % {"name": name, "old": label(payload.get("from")), "new": label(payload.get("to"))}
    )


def _tags(event: Event, payload: dict) -> str:
    added, removed = ", ".join(payload.get("added") or []), ", ".join(payload.get("removed") or [])
    if added and removed:
        return gettext("Tags added %(added)s and removed %(removed)s") % {"added": added, "removed": removed}
    if added:
        return gettext("Tags added %(added)s") % {"added": added}
    if removed:
        return gettext("Tags removed %(removed)s") % {"removed": removed}
    return gettext("Tags changed")


DETAILS: dict[str, Callable[[Event, dict], str]] = {
    EventType.CONVERSATION_CREATED: lambda e, p: (
        gettext("New %(channel)s conversation") % {"channel": label(p.get("channel"))}
    ),
    EventType.STATUS_CHANGED: _changed(_("Status")),
    EventType.PRIORITY_CHANGED: _changed(_("Priority")),
    EventType.TAGS_CHANGED: _tags,
    EventType.DISPOSITION_SET: lambda e, p: (
        gettext("Disposition set to %(disposition)s") % {"disposition": label(p.get("disposition"))}
    ),
    EventType.SLA_WARNING: lambda e, p: (
        gettext("SLA warning for %(metric)s") % {"metric": label(p.get("metric")).lower()}
    ),
    EventType.SLA_BREACHED: lambda e, p: (
        gettext("SLA breached for %(metric)s") % {"metric": label(p.get("metric")).lower()}
    ),
    EventType.SCHEDULED_EVENT_FIRED: lambda e, p: (
        gettext("Scheduled event “%(name)s” fired") % {"name": p.get("name", "")}
    ),
    EventType.SURVEY_ANSWERED: lambda e, p: gettext("Survey answered with %(score)s of 5") % {"score": p.get("score")},
    EventType.FIELDS_CHANGED: lambda e, p: (
        gettext("Fields changed: %(keys)s") % {"keys": ", ".join(p.get("keys") or []) or "—"}
    ),
    EventType.SNOOZED: lambda e, p: gettext("Snoozed until %(until)s") % {"until": label(p.get("until"))},
    EventType.UNSNOOZED: lambda e, p: str(
        {
            "time": _("Woke from snooze (its time came)"),
            "customer_message": _("Woke from snooze (the customer wrote)"),
        }.get(p.get("reason"), _("Snooze ended (status changed)"))
    ),
    EventType.MERGED: lambda e, p: (
        gettext("Conversation #%(source)s merged into #%(target)s")
        % {"source": p.get("source"), "target": p.get("target")}
    ),
    EventType.LINKED: lambda e, p: (
        gettext("Linked #%(other)s as %(kind)s") % {"other": p.get("other"), "kind": label(p.get("kind"))}
    ),
    EventType.UNLINKED: lambda e, p: gettext("Unlinked #%(other)s") % {"other": p.get("other")},
}


def event_sentence(event: Event, *, on_conversation: bool = True) -> str:
    """What happened, and to what, in one line (no ids other than the conversation's number). On the conversation's
    own page (`on_conversation=False`) it leaves the conversation out and reads no message (no query per row)."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    if event.type == EventType.MESSAGE_CREATED:
        what = _message(event, payload, fetch=on_conversation)
    else:
        detail = DETAILS.get(event.type)
        what = detail(event, payload) if detail else str(EVENT_LABELS.get(event.type, label(event.type)))
    if event.conversation_id and on_conversation:
        return gettext("%(what)s on Conversation #%(number)s") % {"what": what, "number": event.conversation_id}
    return what

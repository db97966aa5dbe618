"""`{% automation_panel conversation %}` and `{% automation_event_panel event %}`: the admin's "Automation" panel
(docs/managers.md), what each event did to each workflow of its trigger type, in words, linked to runs. A template tag
lets the conversation and event admin pages (owned by `conversations`, which never imports `workflows`) show it: the
template loads this library by name, so no Python import crosses the layers."""
from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from conversations.models import Conversation, Event
from workflows.engine import explain
from workflows.steps import wording

register = template.Library()
PANEL_EVENTS = 20  # the newest events; older ones are one click away on the event list


def _link(name: str, *args: Any) -> str | None:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None


def _shown_event(event: Event) -> dict[str, Any]:
    explained = explain.explain_event(event)
    for entry in explained["workflows"]:
        entry["label"] = explain.OUTCOME_LABELS[entry["outcome"]]
        entry["reason"] = wording.reason_words(entry.get("reason"))
        entry["run_url"] = _link("workflows_workflowrun_change", entry["run"]) if entry.get("run") else None
        entry["workflow_url"] = _link("workflows_workflow_change", entry["workflow"])
    return {"event": event, "url": _link("conversations_event_change", event.pk),
            "workflows": explained["workflows"]}


@register.inclusion_tag("admin/workflows/automation_panel.html")
def automation_panel(conversation: Conversation | None) -> dict[str, Any]:
    """The panel of a conversation's change page: its newest events, each with its outcome per workflow."""
    if conversation is None or conversation.pk is None:
        return {"events": None}
    events = list(explain.conversation_events(conversation.pk).select_related("conversation")[:PANEL_EVENTS + 1])
    all_url = _link("conversations_event_changelist")
    return {"events": [_shown_event(event) for event in events[:PANEL_EVENTS]],
            "more_url": f"{all_url}?q={conversation.pk}" if all_url and len(events) > PANEL_EVENTS else None}


@register.inclusion_tag("admin/workflows/automation_panel.html")
def automation_event_panel(event: Event | None) -> dict[str, Any]:
    """The panel of one event's page."""
    if event is None:
        return {"events": None}
    return {"events": [_shown_event(event)], "single": True}

"""`{% automation_panel conversation %}` and `{% automation_event_panel event %}`: the admin's "Automation" panel
(docs/managers.md), what each event did to each workflow of its trigger type, in words, linked to runs. A template tag
lets the conversation and event admin pages (owned by `conversations`, which never imports `workflows`) show it: the
template loads this library by name, so no Python import crosses the layers."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from conversations.models import Conversation, Event
from conversations.wording import EVENT_LABELS
from workflows.engine import explain
from workflows.models import Workflow, WorkflowRun
from workflows.steps import wording

register = template.Library()
PANEL_EVENTS = 20  # the newest events; older ones are one click away on the event list


def _link(name: str, *args: Any) -> str | None:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None


def _may_view(request: HttpRequest | None, model: type) -> bool:
    """Whether the viewer may open the model's admin pages (an agent is shown no link to a page that refuses them)."""
    if request is None:
        return False
    try:
        return admin.site.get_model_admin(model).has_view_permission(request)
    except admin.exceptions.NotRegistered:
        return False


def _shown_event(event: Event, request: HttpRequest | None) -> dict[str, Any]:
    explained = explain.explain_event(event)
    runs, workflows = _may_view(request, WorkflowRun), _may_view(request, Workflow)
    for entry in explained["workflows"]:
        entry["label"] = explain.OUTCOME_LABELS[entry["outcome"]]
        entry["reason"] = wording.reason_words(entry.get("reason"))
        entry["run_url"] = _link("workflows_workflowrun_change", entry["run"]) if runs and entry.get("run") else None
        entry["workflow_url"] = _link("workflows_workflow_change", entry["workflow"]) if workflows else None
    event_url = _link("conversations_event_change", event.pk) if _may_view(request, Event) else None
    return {
        "event": event,
        "event_label": EVENT_LABELS.get(event.type, event.type),
        "url": event_url,
        "workflows": explained["workflows"],
    }


@register.inclusion_tag("admin/workflows/automation_panel.html", takes_context=True)
def automation_panel(context: template.Context, conversation: Conversation | None) -> dict[str, Any]:
    """The panel of a conversation's change page: its newest events, each with its outcome per workflow."""
    if conversation is None or conversation.pk is None:
        return {"events": None}
    request = context.get("request")
    events = list(explain.conversation_events(conversation.pk).select_related("conversation")[: PANEL_EVENTS + 1])
    all_url = _link("conversations_event_changelist") if _may_view(request, Event) else None
    return {
        "events": [_shown_event(event, request) for event in events[:PANEL_EVENTS]],
        "more_url": f"{all_url}?q={conversation.pk}" if all_url and len(events) > PANEL_EVENTS else None,
    }


@register.inclusion_tag("admin/workflows/automation_panel.html", takes_context=True)
def automation_event_panel(context: template.Context, event: Event | None) -> dict[str, Any]:
    """The panel of one event's page."""
    if event is None:
        return {"events": None}
    return {"events": [_shown_event(event, context.get("request"))], "single": True}

"""The support manager's extra workflow pages in Django admin: the templates gallery, the dry-run test page and the
analytics page. `WorkflowAdmin.get_urls()` includes `page_urls(self)`; each view is wrapped by the admin site
(login, staff, CSRF) and needs the workflow permissions, so agents get a 403.

The views stay thin: the gallery service (`workflows.gallery.catalog`), the dry run (`workflows.engine.dryrun`) and the analytics
selector (`workflows.selectors`, the same report as `GET /api/analytics/workflows/`) do the work.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations import clock
from conversations.choices import SenderType
from conversations.models import Conversation, Event
from conversations.safetext import checked_json
from conversations.timefmt import when
from conversations.wording import EVENT_LABELS
from workflows import selectors as analytics
from workflows import services
from workflows.admin import charts
from workflows.admin.base import announce_new_write_only
from workflows.admin.base import guard as _guard
from workflows.admin.base import render_page as _page
from workflows.api.views import (  # the API's window rules, shared so both read the same period
    DEFAULT_WINDOW_DAYS,
    MAX_WINDOW_DAYS,
    MAX_YEAR,
    MIN_YEAR,
)
from workflows.engine import dryrun, program
from workflows.engine.definition import DefinitionError
from workflows.gallery import catalog as gallery
from workflows.models import Workflow
from workflows.steps import wording
from workflows.triggers import registry as triggers

PERIOD_PRESETS = (7, 30, 90)
SEARCH_LIMIT = 15

STATUS_COLOURS = {
    "active": "#1a7f37",
    "draft": "#6e7781",
    "inactive": "#9a6700",
    "succeeded": "#1a7f37",
    "would_run": "#1a7f37",
    "failed": "#cf222e",
    "stopped": "#6e7781",
    "skipped": "#8c959f",
    "not_reached": "#afb8c1",
    "pending": "#8c959f",
    "waiting": "#0969da",
    "running": "#0969da",
    "queued": "#6e7781",
    "cancelled": "#9a6700",
}

# The words of a status pill, in the viewer's language (the codes stay codes in JSON and in data attributes).
STATUS_WORDS = {
    "active": gettext_lazy("active"),
    "draft": gettext_lazy("draft"),
    "inactive": gettext_lazy("inactive"),
    "succeeded": gettext_lazy("succeeded"),
    "would_run": gettext_lazy("would run"),
    "failed": gettext_lazy("failed"),
    "stopped": gettext_lazy("stopped"),
    "skipped": gettext_lazy("skipped"),
    "not_reached": gettext_lazy("not reached"),
    "pending": gettext_lazy("pending"),
    "waiting": gettext_lazy("waiting"),
    "running": gettext_lazy("running"),
    "queued": gettext_lazy("queued"),
    "cancelled": gettext_lazy("cancelled"),
}


def status_badge(status: str, label: str | None = None) -> str:
    """A coloured pill for a workflow, run or step status (shared by the run admin and these pages)."""
    colour = STATUS_COLOURS.get(status, "#6e7781")
    return format_html(
        '<span class="wf-badge wf-badge-{}" style="background:{};color:#fff;padding:2px 8px;'
        'border-radius:10px;font-size:11px;white-space:nowrap">{}</span>',
        status,
        colour,
        label or STATUS_WORDS.get(status) or status.replace("_", " "),
    )


def page_urls(model_admin) -> list[URLPattern]:
    """The gallery, use-template, test and analytics URLs, to put before the admin's `<object_id>/` patterns."""
    return [
        path("templates/", _guard(model_admin, "view", gallery_view), name="workflows_workflow_templates"),
        path(
            "templates/<slug:slug>/use/",
            _guard(model_admin, "add", use_template_view),
            name="workflows_workflow_use_template",
        ),
        path("test/", _guard(model_admin, "view", dry_run_view), name="workflows_workflow_test"),
        path("<int:workflow_id>/test/", _guard(model_admin, "view", dry_run_view), name="workflows_workflow_test"),
        path("analytics/", _guard(model_admin, "view", analytics_view), name="workflows_workflow_analytics"),
    ]


# Templates gallery ----------------------------------------------------------------------------------------------


def gallery_view(model_admin, request: HttpRequest) -> TemplateResponse:
    """Ready workflows by category, each with its trigger, step preview and a "Use template" button."""
    return _page(
        model_admin,
        request,
        "gallery.html",
        _("Workflow templates"),
        categories=gallery.templates_by_category(),
        can_add=model_admin.has_add_permission(request),
    )


def use_template_view(model_admin, request: HttpRequest, slug: str) -> HttpResponse:
    """POST: create a draft from the template and open it in the editor; a template that does not validate here
    (e.g. it names something this installation lacks) goes back to the gallery saying why."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        workflow = gallery.template_use(slug=slug, created_by=request.user)
    except gallery.TemplateNotFound as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("admin:workflows_workflow_templates"))
    except DefinitionError as exc:
        messages.error(request, _("This template cannot be used here yet: %(error)s") % {"error": exc})
        return HttpResponseRedirect(reverse("admin:workflows_workflow_templates"))
    messages.success(
        request, _('Draft "%(name)s" created from the template: review it, then activate it.') % {"name": workflow.name}
    )
    announce_new_write_only(request, workflow)  # generated webhook secrets, shown once
    return HttpResponseRedirect(reverse("admin:workflows_workflow_change", args=[workflow.pk]))


# Dry-run test page ----------------------------------------------------------------------------------------------

SAMPLE_EVENT_HELP = gettext_lazy(
    "For power users: the API's sample event as JSON (type, payload, occurred_at). When "
    "given, it is used instead of the message fields above."
)


class DryRunForm(forms.Form):
    """What to test: a workflow, and a conversation and/or a sample event (like POST /api/workflows/{id}/test/). The
    sample is a message typed in plain fields (text, sender, when), or the API's JSON behind a toggle."""

    workflow = forms.ModelChoiceField(queryset=Workflow.objects.order_by("name", "id"))
    conversation = forms.ModelChoiceField(
        queryset=Conversation.objects.all(),
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": gettext_lazy("Conversation id")}),
    )
    message_body = forms.CharField(
        required=False,
        max_length=10_000,
        label=gettext_lazy("Message"),
        widget=forms.Textarea(
            attrs={"rows": 3, "cols": 60, "placeholder": gettext_lazy("I want to cancel my subscription")}
        ),
    )
    sender_type = forms.ChoiceField(
        choices=SenderType.choices, initial=SenderType.CUSTOMER, label=gettext_lazy("From"), required=False
    )
    occurred_at = forms.DateTimeField(
        required=False,
        label=gettext_lazy("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("In your time zone. Empty: the picked conversation's latest event's time, else now."),
    )
    event = forms.CharField(
        required=False,
        help_text=SAMPLE_EVENT_HELP,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "class": "vLargeTextField", "spellcheck": "false"}),
    )

    def clean_event(self) -> dict | None:
        """Parse the pasted sample event; bad JSON or a wrong shape is an error on this field."""
        text = self.cleaned_data["event"].strip()
        if not text:
            return None
        data = checked_json(text)
        if not isinstance(data, dict):
            raise ValidationError(_("A sample event is a JSON object with type, payload and occurred_at."))
        unknown = sorted(set(data) - {"type", "payload", "occurred_at"})
        if unknown:
            raise ValidationError(
                _(
                    'Unknown key %(key)r: a sample event has "type", "payload" and "occurred_at". Put '
                    'message fields such as body and sender_type inside "payload".'
                )
                % {"key": unknown[0]}
            )
        if not isinstance(data.get("type", ""), str) or not isinstance(data.get("payload", {}), dict):
            raise ValidationError(_('"type" is text and "payload" is an object.'))
        return data

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        sample = cleaned.get("event")
        if sample is None and cleaned.get("message_body", "").strip():
            sample = {
                "payload": {
                    "body": cleaned["message_body"],
                    "sender_type": cleaned.get("sender_type") or SenderType.CUSTOMER,
                }
            }
        if sample is not None and cleaned.get("occurred_at") and "occurred_at" not in sample:
            sample = {**sample, "occurred_at": cleaned["occurred_at"]}
        cleaned["event"] = sample
        if not cleaned.get("conversation") and not sample:
            raise ValidationError(_("Pick a conversation or write a sample message to test with."))
        return cleaned


def conversation_search(query: str) -> QuerySet[Conversation]:
    """Conversations matching the search box (id, subject, contact name or email); the latest ones when empty."""
    found = Conversation.objects.select_related("contact").order_by("-created_at", "-id")
    query = query.strip().lstrip("#")
    if query:
        match = Q(subject__icontains=query) | Q(contact__name__icontains=query) | Q(contact__email__icontains=query)
        if query.isdigit():
            match |= Q(pk=int(query))
        found = found.filter(match)
    return found[:SEARCH_LIMIT]


def _with_selected(found: QuerySet[Conversation], selected: str) -> list[Conversation]:
    """The search results, with the conversation already picked kept at the top even if the search missed it."""
    results = list(found)
    if selected.isdigit() and all(str(c.pk) != selected for c in results):
        results[:0] = Conversation.objects.select_related("contact").filter(pk=int(selected))
    return results


def latest_event_sample(conversation: Conversation, trigger_type: str) -> Event | None:
    """The conversation's most recent event of the trigger's type: picking a conversation alone then tests what
    really happened to it (its last message, status change…) rather than an empty event."""
    return conversation.events.filter(type=trigger_type).order_by("-occurred_at").first()


def _run_dry_run(form: DryRunForm) -> tuple[dict | None, str]:
    """The dry-run report and a note on the event it reacted to; (None, "") with the problem added to the form."""
    workflow, conversation = form.cleaned_data["workflow"], form.cleaned_data.get("conversation")
    sample = form.cleaned_data.get("event")
    note = _("the sample event (%(when)s)") % {"when": when(_sample_time(sample))} if sample else ""
    if sample is None:
        found = latest_event_sample(conversation, workflow.trigger_type)
        sample = {"type": found.type, "payload": found.payload, "occurred_at": found.occurred_at} if found else {}
        if form.cleaned_data.get("occurred_at"):
            sample["occurred_at"] = form.cleaned_data["occurred_at"]
        note = (
            _("the conversation's latest %(type)s event (%(when)s)")
            % {"type": workflow.trigger_type, "when": when(found.occurred_at)}
            if found
            else _("an empty %(type)s event (the conversation has none yet)") % {"type": workflow.trigger_type}
        )
    try:
        return dryrun.dry_run(
            definition=services.workflow_definition(workflow), conversation=conversation, sample_event=sample
        ), note
    except DefinitionError as exc:
        form.add_error("workflow", _("This workflow's definition is not valid: %(error)s") % {"error": exc})
    except ValidationError as exc:
        form.add_error("event", " ".join(exc.messages))
    return None, ""


def _trigger_label(name: str) -> str:
    kind = triggers.trigger_type(name)
    return str(kind.label) if kind else name


def _sample_time(sample: dict) -> dt.datetime:
    """When the sample says it happened (now when it does not say)."""
    try:
        return dryrun.event_time(sample.get("occurred_at"))
    except ValidationError:
        return clock.now()


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) if value not in ({}, [], None, "") else ""


def timeline_row(
    step: dict[str, Any], defined: dict[str, Any] | None = None, *, dry_run: bool = False
) -> dict[str, Any]:
    """One step (of a dry-run report or a recorded run) for the timeline: label, a sentence of what it did or would
    do, its plain values as facts, the checks of a condition in words, and the JSON behind a toggle. `defined` is
    the step as the definition has it (its config names the step)."""
    defined = defined or {"type": step["type"], "config": {}}
    output = step.get("output") or {}
    is_condition = step["type"] == "condition" and isinstance(output, dict) and "result" in output
    branch = None
    if is_condition:
        on_false = ON_FALSE_WORDS.get(defined.get("on_false") or "stop", defined.get("on_false"))
        branch = _("true → next step") if output["result"] else _("false → %(then)s") % {"then": on_false}
    shown = output
    if is_condition:  # the checks table shows it
        shown = {}
    elif isinstance(output, dict) and output.get("input") == step.get("input"):  # a describe() echoing its input
        shown = {key: value for key, value in output.items() if key != "input"}
    checks = output.get("checks", []) if is_condition else []
    path = step.get("path") or str(step["position"])
    return {
        **step,
        "number": path if "." in path else step["position"] + 1,
        "label": gallery.step_summary(defined),
        "badge": status_badge(step["status"]),
        "branch": branch,
        "sentence": _("Check the conditions")
        if step["type"] == "condition"
        else wording.step_sentence(step, defined, dry_run=dry_run),
        "facts": [] if is_condition else wording.facts(step.get("input"), shown),
        "checks": [{**check, "words": wording.check_sentence(check)} for check in checks],
        "input_json": _pretty(step.get("input")),
        "output_json": _pretty(shown),
    }


def timeline_rows(
    steps: list[dict[str, Any]], definition: dict[str, Any], *, dry_run: bool = False
) -> list[dict[str, Any]]:
    """Timeline rows of steps recorded for a definition (matched by path: nested steps of branches too)."""
    by_path = {slot["_path"]: program.public(slot) for slot in program.flatten(definition.get("steps", []))}
    return [
        timeline_row(step, by_path.get(step.get("path") or str(step["position"])), dry_run=dry_run) for step in steps
    ]


DRY_RUN_OUTCOMES = {
    "succeeded": gettext_lazy("would succeed"),
    "stopped": gettext_lazy("would stop at a condition"),
    "failed": gettext_lazy("would fail"),
}
ON_FALSE_WORDS = {
    "stop": gettext_lazy("stop"),
    "continue": gettext_lazy("continue"),
    "skip_next": gettext_lazy("skip next"),
}


def _outcome_badge(status: str) -> str:
    return status_badge(status, DRY_RUN_OUTCOMES.get(status, status))


def dry_run_view(model_admin, request: HttpRequest, workflow_id: int | None = None) -> TemplateResponse:
    """Pick a workflow and a conversation (search) or paste a sample event; show what each step would do.
    Opened from a workflow (`<id>/test/` or `?workflow=<id>`), that workflow is preselected."""
    query = request.GET.get("q", "")
    initial = {"workflow": workflow_id or request.GET.get("workflow"), "conversation": request.GET.get("conversation")}
    form = DryRunForm(request.POST if request.method == "POST" else None, initial=initial)
    report, rows, note = None, [], ""
    if request.method == "POST" and form.is_valid():
        report, note = _run_dry_run(form)
    if report:
        rows = timeline_rows(report["steps"], services.workflow_definition(form.cleaned_data["workflow"]), dry_run=True)
    selected = str(form["conversation"].value() or "")
    return _page(
        model_admin,
        request,
        "test.html",
        _("Test a workflow (dry run)"),
        form=form,
        query=query,
        conversations=_with_selected(conversation_search(query), selected),
        selected_conversation=selected,
        report=report,
        rows=rows,
        event_note=note,
        result_badge=_outcome_badge(report["result"]["status"]) if report else "",
        trigger_label=_trigger_label(report["trigger"]["type"]) if report else "",
        event_label=EVENT_LABELS.get(report["trigger"]["event_type"], "") if report else "",
        vars_json=_pretty(report["result"]["vars"]) if report else "",
    )


# Analytics page -------------------------------------------------------------------------------------------------


def default_window(since: dt.date | None, until: dt.date | None) -> tuple[dt.date, dt.date]:
    """Fill a missing end with today and a missing start with DEFAULT_WINDOW_DAYS before the end (as the API)."""
    until = until or timezone.localdate(clock.now())
    return since or until - dt.timedelta(days=DEFAULT_WINDOW_DAYS), until


class PeriodForm(forms.Form):
    """The analytics window: both days included, at most MAX_WINDOW_DAYS long (as the API)."""

    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    @staticmethod
    def _plausible(day: dt.date | None) -> dt.date | None:
        """Refuse typo years (and the date arithmetic overflow near year 1 or 9999) as the API does."""
        if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ValidationError(_("Use a date between %(min)s and %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR})
        return day

    def clean_since(self) -> dt.date | None:
        return self._plausible(self.cleaned_data["since"])

    def clean_until(self) -> dt.date | None:
        return self._plausible(self.cleaned_data["until"])

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        since, until = default_window(cleaned.get("since"), cleaned.get("until"))
        if since > until:
            raise ValidationError({"since": _("The start must be on or before the end.")})
        if (until - since).days > MAX_WINDOW_DAYS:
            raise ValidationError({"since": _("The period is at most %(days)s days.") % {"days": MAX_WINDOW_DAYS}})
        return {"since": since, "until": until}


def analytics_view(model_admin, request: HttpRequest) -> TemplateResponse:
    """Execution trend (SVG), success/failure rates, average duration and most-triggered workflows for a period."""
    form, report = PeriodForm(request.GET), None
    if form.is_valid():  # show the window actually used, defaults included
        report = analytics.workflow_analytics(since=form.cleaned_data["since"], until=form.cleaned_data["until"])
        form = PeriodForm(initial=form.cleaned_data)
    today = timezone.localdate(clock.now())
    presets = [(days, (today - dt.timedelta(days=days)).isoformat(), today.isoformat()) for days in PERIOD_PRESETS]
    return _page(
        model_admin,
        request,
        "analytics.html",
        _("Workflow analytics"),
        form=form,
        report=report,
        chart=charts.execution_trend_svg(report["daily"]) if report else "",
        presets=presets,
        success=analytics.percent(report["success_rate"]) if report else "–",
        failure=analytics.percent(report["failure_rate"]) if report else "–",
    )

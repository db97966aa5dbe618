"""The editor's "Try on history" pages (docs/managers.md replay): a form for the period, then a results page whose
progress bar, figures and samples `workflows/static/workflows/replay.js` fills in by polling `GET
/api/workflow-replays/{id}/`.

Thin: `workflows.engine.replay` starts and runs the replay (in the workers); `WorkflowAdmin.get_urls()` includes
`replay_urls(self)`, each view behind the admin site and the workflow `view` permission, as the dry-run page is.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations import clock
from conversations.choices import CONDITION_OPERATOR_LABELS
from conversations.wording import VALUE_LABELS
from workflows.admin.base import guard, render_page
from workflows.api.replay import MAX_LIMIT
from workflows.api.views import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, MAX_YEAR, MIN_YEAR
from workflows.engine import replay as replays
from workflows.engine.definition import DefinitionError
from workflows.models import Workflow, WorkflowReplay
from workflows.steps import step_types
from workflows.triggers import registry as triggers


class ReplayForm(forms.Form):
    """The period to try the workflow on, both days included, and an optional cap on the events read."""

    since = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To (included)"), widget=forms.DateInput(attrs={"type": "date"}))
    limit = forms.IntegerField(
        label=gettext_lazy("At most"),
        required=False,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=gettext_lazy("events (leave empty for every event of the period)"),
    )

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        for name in ("since", "until"):
            if data.get(name) and not MIN_YEAR <= data[name].year <= MAX_YEAR:
                self.add_error(name, f"Give a date between the years {MIN_YEAR} and {MAX_YEAR}.")
        if since and until and not self.errors:
            if since > until:
                self.add_error("until", "The end of the period must be on or after its start.")
            elif (until - since).days > MAX_WINDOW_DAYS:
                self.add_error("since", f"The period is at most {MAX_WINDOW_DAYS} days.")
        return data

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """[midnight of `since`, midnight after `until`) in the site's time zone."""

        def midnight(day: dt.date) -> dt.datetime:
            return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

        return midnight(self.cleaned_data["since"]), midnight(self.cleaned_data["until"] + dt.timedelta(days=1))


def replay_urls(model_admin) -> list[URLPattern]:
    """The form and results URLs, to put before the admin's `<object_id>/` patterns."""
    return [
        path(
            "<int:workflow_id>/replay/", guard(model_admin, "view", replay_form_view), name="workflows_workflow_replay"
        ),
        path(
            "replays/<int:replay_id>/",
            guard(model_admin, "view", replay_results_view),
            name="workflows_workflow_replay_results",
        ),
    ]


def replay_form_view(model_admin, request: HttpRequest, workflow_id: int) -> HttpResponse:
    """GET: the period form (the last DEFAULT_WINDOW_DAYS days); POST: start the replay and open its results."""
    workflow = get_object_or_404(Workflow, pk=workflow_id)
    today = timezone.localdate(clock.now())
    form = ReplayForm(
        request.POST if request.method == "POST" else None,
        initial={"since": today - dt.timedelta(days=DEFAULT_WINDOW_DAYS), "until": today},
    )
    if request.method == "POST" and form.is_valid():
        since, until = form.period()
        try:
            replay = replays.replay_start(
                workflow=workflow, since=since, until=until, limit=form.cleaned_data["limit"], created_by=request.user
            )
        except DefinitionError as exc:
            form.add_error(None, "The saved workflow does not validate: " + replays.error_text(exc.errors))
        except replays.ReplayLimitReached as exc:
            form.add_error(None, str(exc))
        else:
            return HttpResponseRedirect(reverse("admin:workflows_workflow_replay_results", args=[replay.pk]))
    return render_page(
        model_admin,
        request,
        "replay_form.html",
        _("Try “%(name)s” on history") % {"name": workflow.name},
        form=form,
        workflow=workflow,
        trigger_label=_trigger_label(workflow.trigger_type),
    )


def replay_results_view(model_admin, request: HttpRequest, replay_id: int) -> TemplateResponse:
    """The progress bar and, once done, the figures and samples in words (drawn by replay.js)."""
    replay = get_object_or_404(WorkflowReplay.objects.select_related("workflow"), pk=replay_id)
    trigger_type = replay.definition["trigger"]["type"]
    return render_page(
        model_admin,
        request,
        "replay.html",
        _("“%(name)s” on history") % {"name": replay.workflow.name},
        replay=replay,
        trigger_label=_trigger_label(trigger_type),
        trigger_type=trigger_type,
        until_day=timezone.localtime(replay.until) - dt.timedelta(microseconds=1),
        api_url=reverse("workflow-replay-detail", args=[replay.pk]),
        step_labels={name: step_types.get(name).label for name in step_types.names()},
        page_words={
            "values": VALUE_LABELS,
            "operators": CONDITION_OPERATOR_LABELS,
            "time_zone": timezone.get_current_timezone_name(),
        },
        conversation_url=reverse("admin:conversations_conversation_change", args=[0]),
    )


def _trigger_label(trigger_type: str) -> str:
    kind = triggers.trigger_type(trigger_type)
    return kind.label if kind else trigger_type

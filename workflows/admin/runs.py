"""Run history in Django admin: a read-only run list filtered by workflow, status and date, and a run page with the
step timeline (status, duration, attempts, rendered input as stored — secrets already masked by the runner —,
output, error), a "Retry from failed step" button (`workflows.services.run_retry`) and a "Cancel" button for
unfinished runs (`run_cancel`).

Registered from `workflows/admin/__init__.py`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from conversations.admin.base import NoWritesMixin
from conversations.timefmt import when
from conversations.wording import event_sentence
from workflows import services
from workflows.admin.pages import status_badge, timeline_rows
from workflows.choices import FINISHED_RUN_STATUSES, RunStatus
from workflows.engine import versions
from workflows.models import WorkflowRun


class WorkflowRunAdmin(NoWritesMixin, admin.ModelAdmin):
    """Runs are a log: nobody adds, edits or deletes them by hand; a failed one can be retried."""

    list_display = ("id", "workflow", "status_pill", "conversation", "step_count", "created", "duration")
    list_display_links = ("id",)
    list_filter = ("status", "workflow", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("workflow", "conversation")
    date_hierarchy = "created_at"
    search_fields = ("=id", "=conversation__id", "workflow__name")
    fields = (
        "workflow",
        "version",
        "status",
        "conversation",
        "event_in_words",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "resume_at",
    )
    readonly_fields = fields
    change_form_template = "admin/workflows/pages/run_change_form.html"
    change_list_template = "admin/workflows/pages/run_change_list.html"
    actions = ("retry_selected", "cancel_selected")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_steps=Count("steps"))

    def can_manage_runs(self, request: HttpRequest) -> bool:
        """Retry and cancel change a run, so they need the right to change workflows (support managers)."""
        return request.user.has_perm("workflows.change_workflow")

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def status_pill(self, obj: WorkflowRun) -> str:
        return status_badge(obj.status)

    @admin.display(description=gettext_lazy("Event"))
    def event_in_words(self, obj: WorkflowRun) -> str:
        """What started the run, as a sentence (the payload is on the event's own page)."""
        return event_sentence(obj.event) if obj.event_id else "—"

    @admin.display(description=gettext_lazy("Steps"), ordering="_steps")
    def step_count(self, obj: WorkflowRun) -> int:
        return obj._steps

    @admin.display(description=gettext_lazy("Created"), ordering="created_at")
    def created(self, obj: WorkflowRun) -> str:
        return when(obj.created_at)

    @admin.display(description=gettext_lazy("Duration"))
    def duration(self, obj: WorkflowRun) -> str:
        if not (obj.started_at and obj.finished_at):
            return "–"
        return _("%(seconds).2f s") % {"seconds": (obj.finished_at - obj.started_at).total_seconds()}

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:run_id>/retry/", wrap(self.retry_view), name="workflows_workflowrun_retry"),
            path("<int:run_id>/cancel/", wrap(self.cancel_view), name="workflows_workflowrun_cancel"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The read-only run page plus its step timeline and the retry button."""
        run = self.get_object(request, object_id)
        extra = {}
        if run is not None:
            steps = [
                {
                    "position": int((s.path or str(s.position)).split(".")[0]),
                    "path": s.path or str(s.position),
                    "type": s.type,
                    "status": s.status,
                    "attempts": s.attempts,
                    "duration_ms": s.duration_ms,
                    "input": s.input,
                    "output": s.output,
                    "error": s.error,
                    "started_at": s.started_at,
                }
                for s in run.steps.all()
            ]
            extra = {
                "rows": timeline_rows(steps, versions.definition_for_version(run)),
                "run": run,
                "run_badge": status_badge(run.status),
                "can_retry": run.status == RunStatus.FAILED and self.can_manage_runs(request),
                "current_version": run.workflow.version,
                "can_cancel": run.status not in FINISHED_RUN_STATUSES and self.can_manage_runs(request),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _apply(self, request: HttpRequest, run: WorkflowRun, service) -> bool:
        """Call a run service; a run in the wrong state becomes a message, not an error page."""
        try:
            service(run=run)
        except ValidationError as exc:
            self.message_user(
                request, _("Run %(run)s: %(error)s") % {"run": run.pk, "error": " ".join(exc.messages)}, messages.ERROR
            )
            return False
        return True

    def _button_view(self, request: HttpRequest, run_id: int, service, done: str):
        """POST from the run page: apply `service` to the run and come back to its page."""
        if not self.can_manage_runs(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        run = get_object_or_404(WorkflowRun, pk=run_id)
        if self._apply(request, run, service) and done:
            self.message_user(request, _("Run %(run)s %(done)s.") % {"run": run.pk, "done": done}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:workflows_workflowrun_change", args=[run.pk]))

    def retry_view(self, request: HttpRequest, run_id: int):
        """Queue a failed run again from its failed step (the steps that succeeded are not run again), on the version
        it ran or on the workflow's current version (the button pressed); the message says which."""
        version = request.POST.get("version") or "original"

        def retry(run: WorkflowRun) -> None:
            retried = services.run_retry(run=run, version=version)
            which = _("the version it ran") if version == "original" else _("the current version")
            self.message_user(
                request,
                _("Run %(run)s queued again from its failed step on version %(version)s (%(which)s).")
                % {"run": run.pk, "version": retried.version, "which": which},
                messages.SUCCESS,
            )

        return self._button_view(request, run_id, retry, "")

    def cancel_view(self, request: HttpRequest, run_id: int):
        """Stop a run that has not finished (a waiting run never resumes)."""
        return self._button_view(request, run_id, services.run_cancel, _("cancelled"))

    def _bulk(self, request, queryset, service, done: str) -> None:
        if not self.can_manage_runs(request):
            raise PermissionDenied
        count = sum(self._apply(request, run, service) for run in queryset)
        if count:
            self.message_user(
                request,
                ngettext("%(count)d run %(done)s.", "%(count)d runs %(done)s.", count) % {"count": count, "done": done},
                messages.SUCCESS,
            )

    @admin.action(description=gettext_lazy("Retry from the failed step"))
    def retry_selected(self, request, queryset):
        self._bulk(request, queryset, services.run_retry, _("queued again from their failed step"))

    @admin.action(description=gettext_lazy("Cancel"))
    def cancel_selected(self, request, queryset):
        self._bulk(request, queryset, services.run_cancel, _("cancelled"))


admin.site.register(WorkflowRun, WorkflowRunAdmin)

"""Admin for support managers: workflows (edited as their §4 definition, validated by the shared validator),
read-only run history with step timelines, and scheduled events.
"""
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from django.utils.html import format_html

from workflows import services
from workflows.choices import RunStatus, WorkflowStatus
from workflows.definition import DefinitionError, validate_definition
from workflows.models import ScheduledEvent, StepRun, Workflow, WorkflowRun

STATUS_COLOURS = {"active": "#1a7f37", "draft": "#6e7781", "inactive": "#9a6700",
                  "succeeded": "#1a7f37", "failed": "#cf222e", "stopped": "#6e7781", "waiting": "#0969da",
                  "running": "#0969da", "queued": "#6e7781", "cancelled": "#9a6700"}


def badge(text: str) -> str:
    colour = STATUS_COLOURS.get(text, "#6e7781")
    return format_html('<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;'
                       'font-size:11px">{}</span>', colour, text)


class WorkflowForm(forms.ModelForm):
    """The whole definition as JSON; the shared validator's errors are shown on the form, keyed by step and key."""

    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "style": "font-family:monospace"}),
                                 help_text="The workflow definition (SPEC §4): name, description, status, trigger, steps.")

    class Meta:
        model = Workflow
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            initial = services.workflow_definition(self.instance)
        else:
            initial = {"name": "", "description": "", "status": "draft",
                       "trigger": {"type": "message.created", "config": {}}, "steps": []}
        self.fields["definition"].initial = json.dumps(initial, indent=2)

    def clean_definition(self):
        try:
            data = json.loads(self.cleaned_data["definition"])
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Not valid JSON: {exc}") from exc
        try:
            return validate_definition(data)
        except DefinitionError as exc:
            raise ValidationError([f"{key}: {' '.join(msgs)}" for key, msgs in exc.errors.items()]) from exc


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    form = WorkflowForm
    list_display = ("name", "status_badge", "trigger_type", "step_count", "executions", "success_rate", "last_run",
                    "version")
    list_filter = ("status", "trigger_type")
    search_fields = ("name", "description")
    actions = ["activate", "deactivate", "duplicate"]
    fieldsets = ((None, {"fields": ("definition",)}),)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _steps=Count("steps", distinct=True),
            _runs=Count("runs", distinct=True),
            _succeeded=Count("runs", filter=Q(runs__status=RunStatus.SUCCEEDED), distinct=True),
            _last_run=Max("runs__created_at"),
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status)

    @admin.display(description="Steps", ordering="_steps")
    def step_count(self, obj):
        return obj._steps

    @admin.display(description="Executions", ordering="_runs")
    def executions(self, obj):
        return obj._runs

    @admin.display(description="Success rate")
    def success_rate(self, obj):
        return f"{100 * obj._succeeded / obj._runs:.0f}%" if obj._runs else "–"

    @admin.display(description="Last run", ordering="_last_run")
    def last_run(self, obj):
        return obj._last_run

    def save_model(self, request, obj, form, change):
        definition = form.cleaned_data["definition"]
        if change:
            saved = services.workflow_update(workflow=obj, definition=definition)
        else:
            saved = services.workflow_create(definition=definition, created_by=request.user)
        obj.pk, obj.version = saved.pk, saved.version

    def save_related(self, request, form, formsets, change):
        """Steps are written by the service with the definition; there is nothing else to save."""

    def _set_status(self, request, queryset, status: str) -> None:
        for workflow in queryset:
            services.workflow_set_status(workflow=workflow, status=status)
        self.message_user(request, f"{queryset.count()} workflow(s) now {status}.", messages.SUCCESS)

    @admin.action(description="Activate selected workflows")
    def activate(self, request, queryset):
        self._set_status(request, queryset, WorkflowStatus.ACTIVE)

    @admin.action(description="Deactivate selected workflows")
    def deactivate(self, request, queryset):
        self._set_status(request, queryset, WorkflowStatus.INACTIVE)

    @admin.action(description="Duplicate selected workflows (as drafts)")
    def duplicate(self, request, queryset):
        for workflow in queryset:
            services.workflow_duplicate(workflow=workflow, created_by=request.user)
        self.message_user(request, f"{queryset.count()} workflow(s) duplicated as drafts.", messages.SUCCESS)


class ReadOnlyAdminMixin:
    """Run history is a log: nobody adds, edits or deletes it by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StepRunInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StepRun
    extra = 0
    fields = ("position", "type", "status", "attempts", "duration_ms", "input", "output", "error")
    readonly_fields = fields


@admin.register(WorkflowRun)
class WorkflowRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "workflow", "version", "status_badge", "conversation", "created_at", "finished_at")
    list_filter = ("status", "workflow", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("workflow", "conversation")
    readonly_fields = ("workflow", "version", "event", "conversation", "status", "position", "variables",
                       "resume_at", "error", "created_at", "started_at", "finished_at")
    exclude = ("lease_until",)
    inlines = [StepRunInline]
    actions = ["retry", "cancel"]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status)

    def _apply(self, request, queryset, service, verb: str) -> None:
        done = 0
        for run in queryset:
            try:
                service(run=run)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"Run {run.pk}: {' '.join(exc.messages)}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} run(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Retry from the failed step")
    def retry(self, request, queryset):
        self._apply(request, queryset, services.run_retry, "queued again from their failed step")

    @admin.action(description="Cancel")
    def cancel(self, request, queryset):
        self._apply(request, queryset, services.run_cancel, "cancelled")



@admin.register(ScheduledEvent)
class ScheduledEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "conversation", "fire_at", "status", "fired_at")
    list_filter = ("status", "name")
    readonly_fields = ("conversation", "name", "fire_at", "status", "depth", "created_by_run", "created_at", "fired_at")

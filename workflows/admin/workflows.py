"""Admin for support managers: the workflow list (badges, counts, a toggle, import/export), the workflow editor
(fields generated from trigger and step schemas, validated by the shared validator) and scheduled events. Run
history lives in `workflows.admin.runs`, the gallery, dry run and analytics pages in `workflows.admin.pages`.
Every change goes through `workflows.services`. Write-only step values (webhook secrets) show masked in the editor
and exports; the save that generated or changed one shows it once, as a message on the next page.
"""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog

from conversations.admin.base import ReadOnlyAdmin, adopt
from workflows import selectors as analytics
from workflows import services
from workflows.admin import pages as admin_pages
from workflows.admin import versions as admin_versions
from workflows.admin.base import announce_new_write_only
from workflows.admin.forms import ImportForm, WorkflowEditorForm
from workflows.admin.replay import replay_urls
from workflows.choices import WorkflowStatus
from workflows.engine.definition import DefinitionError
from workflows.models import ScheduledEvent, Step, Workflow
from workflows.triggers import registry as triggers

STOP_HELP = gettext_lazy("Stops processing: the workflows after it do not start for an event it matches.")
STATUS_COLOURS = {"active": "#1a7f37", "draft": "#6e7781", "inactive": "#9a6700"}
# Pages another module adds to this admin (templates gallery, dry run, analytics), linked from the list.
PAGE_LINKS = (
    (gettext_lazy("Templates"), "workflows_workflow_templates"),
    (gettext_lazy("Test"), "workflows_workflow_test"),
    (gettext_lazy("Runs"), "workflows_workflow_runs"),
    (gettext_lazy("Runs"), "workflows_workflowrun_changelist"),
    (gettext_lazy("Analytics"), "workflows_workflow_analytics"),
)


def badge(text: str, label: str = "") -> str:
    colour = STATUS_COLOURS.get(text, "#6e7781")
    return format_html('<span class="wf-badge" style="background:{}">{}</span>', colour, label or text)


def admin_link(name: str, *args) -> str | None:
    """The URL of an admin page, or None while the page does not exist (the link is then left out)."""
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None


def page_links() -> list[tuple[str, str]]:
    """The extra workflow pages that exist, one link per label."""
    links: dict[str, str] = {}
    for label, name in PAGE_LINKS:
        url = admin_link(name)
        if url and str(label) not in links:
            links[str(label)] = url
    return list(links.items())


def _count_of(queryset) -> Coalesce:
    """A correlated COUNT per workflow (one subquery, not a join that multiplies rows)."""
    counted = queryset.filter(workflow=OuterRef("pk")).order_by().values("workflow").annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n")[:1], output_field=IntegerField()), 0)


def workflows_with_stats(queryset):
    """Workflows with step count, run outcomes and last run: the list reads them without a query per row."""
    return analytics.with_stats(queryset).annotate(_steps=_count_of(Step.objects.all()))


def export_response(definitions: list[dict], filename: str) -> HttpResponse:
    """A JSON download: one workflow definition, or a list of them (both import back)."""
    body = definitions[0] if len(definitions) == 1 else definitions
    response = HttpResponse(json.dumps(body, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class TriggerTypeFilter(admin.SimpleListFilter):
    """Filter by trigger, named as the editor names it."""

    title = gettext_lazy("trigger")
    parameter_name = "trigger"

    def lookups(self, request, model_admin):
        return [(name, kind.label) for name, kind in triggers.TRIGGER_TYPES.items()]

    def queryset(self, request, queryset):
        return queryset.filter(trigger_type=self.value()) if self.value() else queryset


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    form = WorkflowEditorForm
    # Nine columns fit at 1440 px with the sidebar and the filters open; the step count rides under the trigger.
    list_display = (
        "drag_handle",
        "name",
        "status_badge",
        "trigger_badge",
        "executions",
        "success_rate",
        "last_run",
        "toggle",
    )
    list_display_links = ("name",)
    list_filter = ("status", TriggerTypeFilter)
    search_fields = ("name", "description")
    actions = ["activate", "deactivate", "duplicate", "export_json"]
    empty_value_display = "–"
    ordering = ("order", "id")  # the dispatch order: rows are dragged into place (workflows/reorder.js)

    def get_queryset(self, request):
        return workflows_with_stats(super().get_queryset(request))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        urls = [
            path("import/", wrap(self.import_view), name="workflows_workflow_import"),
            path("<int:pk>/toggle/", wrap(require_POST(self.toggle_view)), name="workflows_workflow_toggle"),
            path("<int:pk>/export/", wrap(self.export_view), name="workflows_workflow_export"),
            path("reorder/", wrap(require_POST(self.reorder_view)), name="workflows_workflow_reorder"),
            # The texts of the workflow scripts (editor, reorder, replay) in the viewer's language.
            path("jsi18n/", wrap(self.jsi18n_view), name="workflows_jsi18n"),
        ]
        return (
            urls + admin_versions.version_urls(self) + self.extra_page_urls() + replay_urls(self) + super().get_urls()
        )

    def extra_page_urls(self) -> list:
        """Pages of `workflows.admin.pages` (gallery, dry run, runs, analytics)."""
        return list(admin_pages.page_urls(self))

    # List columns --------------------------------------------------------------------------------------------

    def get_changelist_instance(self, request):
        """The page's workflows with their problems, computed together (one query per reference kind)."""
        changelist = super().get_changelist_instance(request)
        problems = services.workflow_problems(list(changelist.result_list))
        for workflow in changelist.result_list:
            workflow._problems = problems.get(workflow.pk, [])
        return changelist

    @admin.display(description=gettext_lazy("Order"), ordering="order")
    def drag_handle(self, obj):
        """The row's handle for drag-to-reorder, its order number and whether it stops later workflows."""
        return format_html(
            '<span class="wf-drag" draggable="true" data-workflow="{}" title="{}">'
            '&#x2807;&#x2807;</span> <span class="wf-order">{}</span>{}',
            obj.pk,
            _("Drag to reorder"),
            obj.order,
            format_html(' <span class="wf-stop" title="{}">{}</span>', STOP_HELP, _("stop"))
            if obj.stop_processing
            else "",
        )

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def status_badge(self, obj):
        status = badge(obj.status, obj.get_status_display())
        problems = getattr(obj, "_problems", [])
        if not problems:
            return status
        detail = "; ".join(f"{p['key']}: {p['message']}" for p in problems)
        return format_html(
            '{} <span class="wf-badge wf-broken" style="background:#cf222e" title="{}">{}</span>',
            status,
            detail,
            _("broken"),
        )

    @admin.display(description=gettext_lazy("Trigger"), ordering="trigger_type")
    def trigger_badge(self, obj):
        kind = triggers.trigger_type(obj.trigger_type)
        steps = ngettext("%(count)d step", "%(count)d steps", obj._steps) % {"count": obj._steps}
        return format_html(
            '<span class="wf-trigger-badge" title="{}">{}</span><br><span class="wf-muted">{}</span>',
            obj.trigger_type,
            kind.label if kind else obj.trigger_type,
            steps,
        )

    @admin.display(description=gettext_lazy("Executions"), ordering="stat_executions")
    def executions(self, obj):
        return obj.stat_executions

    @admin.display(description=gettext_lazy("Success rate"))
    def success_rate(self, obj):
        """Succeeded / (succeeded + failed); runs that didn't match a condition are shown apart, not as failures."""
        figures = analytics.workflow_stats(obj)
        rate = analytics.percent(figures["success_rate"])
        if not figures["didnt_match"]:
            return rate
        return format_html(
            '{} <span class="wf-muted wf-nowrap" title="{}">({})</span>',
            rate,
            _("Runs stopped by a condition"),
            # a catalogue text around a number, as templates show {% translate %}: not escaped again
            mark_safe(_("%(count)s didn't match") % {"count": int(figures["didnt_match"])}),
        )

    @admin.display(description=gettext_lazy("Last run"), ordering="stat_last_run_at")
    def last_run(self, obj):
        return obj.stat_last_run_at

    @admin.display(description=gettext_lazy("On / off"))
    def toggle(self, obj):
        """A switch posting the list's own form (which carries the CSRF token) to the toggle URL."""
        active = obj.status == WorkflowStatus.ACTIVE
        return format_html(
            '<button type="submit" class="wf-toggle {}" formaction="{}" data-toggle-workflow="{}" title="{}" '
            'aria-pressed="{}"><span class="wf-knob"></span>{}</button>',
            "on" if active else "off",
            reverse("admin:workflows_workflow_toggle", args=[obj.pk]),
            obj.pk,
            _("Deactivate") if active else _("Activate"),
            "true" if active else "false",
            _("On") if active else _("Off"),
        )

    def changelist_view(self, request, extra_context=None):
        bar = analytics.summary()
        extra = {
            "summary": {**bar, "success": analytics.percent(bar["success_rate"])},
            "page_links": page_links(),
            "import_url": reverse("admin:workflows_workflow_import"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    # Editor ----------------------------------------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        tools = []
        if object_id:
            self._warn_problems(request, object_id)
            tools.append((_("Export JSON"), reverse("admin:workflows_workflow_export", args=[object_id])))
            tools.append((_("Versions"), reverse("admin:workflows_workflow_versions", args=[object_id])))
            test = admin_link("workflows_workflow_test", object_id) or admin_link("workflows_workflow_test")
            if test:
                tools.append((_("Test (dry run)"), test))
            tools.append((_("Try on history"), reverse("admin:workflows_workflow_replay", args=[object_id])))
        return super().changeform_view(request, object_id, form_url, {"workflow_tools": tools, **(extra_context or {})})

    def _warn_problems(self, request: HttpRequest, object_id: str) -> None:
        """On a GET of the editor, say what is broken (a team or integration deleted since the last save)."""
        workflow = (
            Workflow.objects.filter(pk=object_id).prefetch_related("steps").first()
            if request.method == "GET" and str(object_id).isdigit()
            else None
        )
        for problem in services.workflow_problems([workflow]).get(workflow.pk, []) if workflow else []:
            self.message_user(
                request,
                _("Broken: %(key)s: %(message)s (fix the step; the workflow cannot be activated until then)")
                % {"key": problem["key"], "message": problem["message"]},
                messages.WARNING,
            )

    def save_model(self, request, obj, form, change):
        definition = form.definition
        if change:
            saved = services.workflow_update(workflow=obj, definition=definition)
        else:
            saved = services.workflow_create(definition=definition, created_by=request.user)
        adopt(obj, saved)
        announce_new_write_only(request, saved)

    def save_related(self, request, form, formsets, change):
        """Steps are written by the service with the definition; there is nothing else to save."""

    def construct_change_message(self, request, form, formsets, add=False):
        """In the shape Django's history page reads: `{"added": {}}` is the object itself (an "added" entry with
        content names a related object and needs its `name` and `object`), then the definition's version."""
        changed = {"changed": {"fields": [f"definition (version {form.instance.version})"]}}
        return [{"added": {}}, changed] if add else [changed]

    # Views -------------------------------------------------------------------------------------------------

    def toggle_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Switch a workflow on (active) or off (inactive) from the list."""
        workflow = get_object_or_404(Workflow, pk=pk)
        if not self.has_change_permission(request, workflow):
            raise PermissionDenied
        status = WorkflowStatus.INACTIVE if workflow.status == WorkflowStatus.ACTIVE else WorkflowStatus.ACTIVE
        if self._apply_status(request, workflow, status):
            self.message_user(
                request,
                _("%(name)s is now %(status)s.") % {"name": workflow.name, "status": status.label.lower()},
                messages.SUCCESS,
            )
        return self._back_to_list(request)

    def _back_to_list(self, request: HttpRequest) -> HttpResponse:
        referer = request.META.get("HTTP_REFERER", "")
        if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
            return HttpResponseRedirect(referer)
        return HttpResponseRedirect(reverse("admin:workflows_workflow_changelist"))

    def reorder_view(self, request: HttpRequest) -> HttpResponse:
        """Save the order the list's rows were dragged into (`workflow` ids, top first); JSON for reorder.js."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        raw = request.POST.getlist("workflow")
        if not raw or not all(value.isascii() and value.isdigit() and len(value) < 19 for value in raw):
            return JsonResponse({"workflow": [_("Give the workflow ids in their new order.")]}, status=400)
        try:
            workflows = services.workflow_reorder(workflow_ids=[int(value) for value in raw])
        except (DefinitionError, ValidationError) as exc:
            return JsonResponse({"workflow": [str(exc)]}, status=400)
        return JsonResponse({"order": {workflow.pk: workflow.order for workflow in workflows}})

    def jsi18n_view(self, request: HttpRequest) -> HttpResponse:
        """The workflow scripts' catalogue (Django's `JavaScriptCatalog` of this app), for those who see workflows."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JavaScriptCatalog.as_view(packages=["workflows"])(request)

    def export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The workflow definition as a JSON download (write-only values masked, like every read)."""
        workflow = get_object_or_404(Workflow, pk=pk)
        if not self.has_view_permission(request, workflow):
            raise PermissionDenied
        filename = f"workflow-{workflow.pk}-{slugify(workflow.name) or 'export'}.json"
        return export_response([services.workflow_definition(workflow)], filename)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Create workflows from an export file or pasted JSON, each checked by the shared validator."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            created = [
                services.workflow_create(definition=definition, created_by=request.user)
                for definition in form.cleaned_data["definitions"]
            ]
            self.message_user(
                request,
                ngettext(
                    "Imported %(count)d workflow: %(names)s.", "Imported %(count)d workflows: %(names)s.", len(created)
                )
                % {"count": len(created), "names": ", ".join(w.name for w in created)},
                messages.SUCCESS,
            )
            for workflow in created:  # exports hold masked secrets: the imported steps got new ones
                announce_new_write_only(request, workflow)
            if len(created) == 1:
                return HttpResponseRedirect(reverse("admin:workflows_workflow_change", args=[created[0].pk]))
            return HttpResponseRedirect(reverse("admin:workflows_workflow_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": _("Import workflows from JSON"),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/workflows/workflow/import.html", context)

    # Actions -----------------------------------------------------------------------------------------------

    def _apply_status(self, request, workflow: Workflow, status: str) -> bool:
        """Set one workflow's status through the service; a definition that no longer validates is reported."""
        try:
            services.workflow_set_status(workflow=workflow, status=status)
        except (DefinitionError, ValidationError) as exc:
            self.message_user(request, f"{workflow.name}: {exc}", messages.ERROR)
            return False
        return True

    def _set_status(self, request, queryset, status: str) -> None:
        done = sum(self._apply_status(request, workflow, status) for workflow in queryset)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d workflow now %(status)s.", "%(count)d workflows now %(status)s.", done)
                % {"count": done, "status": status.label.lower()},
                messages.SUCCESS,
            )

    @admin.action(description=gettext_lazy("Activate selected workflows"))
    def activate(self, request, queryset):
        self._set_status(request, queryset, WorkflowStatus.ACTIVE)

    @admin.action(description=gettext_lazy("Deactivate selected workflows"))
    def deactivate(self, request, queryset):
        self._set_status(request, queryset, WorkflowStatus.INACTIVE)

    @admin.action(description=gettext_lazy("Duplicate selected workflows (as drafts)"))
    def duplicate(self, request, queryset):
        for workflow in queryset:
            services.workflow_duplicate(workflow=workflow, created_by=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d workflow duplicated as a draft.", "%(count)d workflows duplicated as drafts.", len(queryset)
            )
            % {"count": len(queryset)},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Export selected workflows as JSON"))
    def export_json(self, request, queryset):
        workflows = list(queryset.prefetch_related("steps"))
        return export_response([services.workflow_definition(w) for w in workflows], "workflows.json")


@admin.register(ScheduledEvent)
class ScheduledEventAdmin(ReadOnlyAdmin):
    """Scheduled events are a log of promises: nobody adds, edits or deletes them by hand."""

    list_display = ("name", "conversation", "fire_at", "status", "fired_at")
    list_filter = ("status", "name")
    readonly_fields = ("conversation", "name", "fire_at", "status", "depth", "created_by_run", "created_at", "fired_at")

"""The versions page of a workflow in admin: every saved version, a readable diff between one and the current
definition, and "Restore this version" (saved as a new version by `services.workflow_restore_version`).
`WorkflowAdmin.get_urls()` includes `version_urls(self)`; the readable diff is `workflows.admin.version_diff`.
(Moves to workflows/admin/versions.py with the admin package.)
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workflows import services
from workflows.admin import version_diff as versions
from workflows.engine.definition import DefinitionError
from workflows.models import Workflow


def version_urls(model_admin) -> list:
    """The list, diff and restore URLs, each behind the admin site's login check."""

    def wrap(view):
        return model_admin.admin_site.admin_view(partial(view, model_admin))

    return [
        path("<int:pk>/versions/", wrap(list_view), name="workflows_workflow_versions"),
        path("<int:pk>/versions/<int:version>/", wrap(diff_view), name="workflows_workflow_version"),
        path(
            "<int:pk>/versions/<int:version>/restore/",
            require_POST(wrap(restore_view)),
            name="workflows_workflow_version_restore",
        ),
    ]


def _workflow(model_admin, request: HttpRequest, pk: int, permission: str) -> Workflow:
    workflow = get_object_or_404(Workflow, pk=pk)
    allowed = (
        model_admin.has_change_permission(request, workflow)
        if permission == "change"
        else model_admin.has_view_permission(request, workflow)
    )
    if not allowed:
        raise PermissionDenied
    return workflow


def _render(model_admin, request: HttpRequest, template: str, workflow: Workflow, **context: Any) -> TemplateResponse:
    return TemplateResponse(
        request,
        f"admin/workflows/workflow/{template}",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "original": workflow,
            "can_restore": model_admin.has_change_permission(request, workflow),
            **context,
        },
    )


def list_view(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    """Every saved version, newest first, each with a link to its diff against the current one."""
    workflow = _workflow(model_admin, request, pk, "view")
    return _render(
        model_admin,
        request,
        "versions.html",
        workflow,
        title=_("Versions of %(name)s") % {"name": workflow.name},
        versions=versions.versions_of(workflow),
    )


def diff_view(model_admin, request: HttpRequest, pk: int, version: int) -> HttpResponse:
    """What changed from the chosen version to the current definition, line by line."""
    workflow = _workflow(model_admin, request, pk, "view")
    saved = get_object_or_404(versions.versions_of(workflow), version=version)
    return _render(
        model_admin,
        request,
        "version_diff.html",
        workflow,
        version=saved,
        title=f"{workflow.name}: version {version} compared with the current version {workflow.version}",
        lines=versions.diff_with_current(saved),
    )


def restore_view(model_admin, request: HttpRequest, pk: int, version: int) -> HttpResponse:
    """Save the chosen version as a new version; a definition that no longer validates is reported, not saved."""
    workflow = _workflow(model_admin, request, pk, "change")
    try:
        restored = services.workflow_restore_version(workflow=workflow, version=version)
    except (DefinitionError, ValidationError) as exc:
        detail = str(exc) if isinstance(exc, DefinitionError) else " ".join(exc.messages)
        messages.error(
            request, _("Version %(version)s cannot be restored: %(error)s") % {"version": version, "error": detail}
        )
        return HttpResponseRedirect(reverse("admin:workflows_workflow_versions", args=[pk]))
    stops = _("yes") if restored.stop_processing else _("no")
    messages.success(
        request,
        _(
            "Version %(version)s restored as version %(new)s (order %(order)s, stop processing the "
            "workflows after it: %(stops)s)."
        )
        % {"version": version, "new": restored.version, "order": restored.order, "stops": stops},
    )
    return HttpResponseRedirect(reverse("admin:workflows_workflow_change", args=[pk]))

"""What the workflow admin's pages share: the page inside the admin chrome, the permission guard of a custom view,
and the once-only message of generated write-only values. The page modules (`workflows`, `pages`, `replay`, ...)
import it; it imports none of them, so the pages never import each other in a circle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from workflows import services
from workflows.models import Workflow
from workflows.steps import step_types


def render_page(model_admin, request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
    """Render one of the pages inside the admin chrome (breadcrumbs, sidebar, user tools)."""
    return TemplateResponse(
        request,
        f"admin/workflows/pages/{template}",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": title,
            **context,
        },
    )


def guard(model_admin, permission: str, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view behind the admin site's login check and the workflow `view`/`add` permission (403 otherwise)."""

    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        allowed = (
            model_admin.has_add_permission(request) if permission == "add" else model_admin.has_view_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        return view(model_admin, request, *args, **kwargs)

    return model_admin.admin_site.admin_view(checked)


def announce_new_write_only(request: HttpRequest, workflow: Workflow) -> None:
    """Show once, as messages, the write-only values (webhook secrets) the workflow's latest save generated or
    changed: after this, every page shows them masked."""
    for item in services.workflow_new_write_only(workflow):
        kind = step_types.get(item["type"])
        messages.info(
            request,
            _(
                "%(workflow)s, step %(number)s (%(step)s): the %(key)s is %(value)s — copy it now, it is "
                "shown only once."
            )
            % {
                "workflow": workflow.name,
                "number": item["position"] + 1,
                "step": kind.label if kind else item["type"],
                "key": item["key"],
                "value": item["value"],
            },
        )

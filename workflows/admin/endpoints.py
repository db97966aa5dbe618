"""Admin › Endpoints (docs/managers.md): every outbound destination with its state and figures, and a re-enable page
(with an optional "redeliver failed since" time) that calls `workflows.integrations.delivery.endpoint_enable`. Rows are
written by the outbound steps only, so nobody adds or edits them here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations.roles import is_manager
from workflows import services
from workflows.models import Endpoint

STATE_COLOURS = {"healthy": "#1a7f37", "failing": "#9a6700", "disabled": "#cf222e"}


def _moment(value) -> str:
    return date_format(localtime(value), "Y-m-d H:i") if value else "–"


class EnableForm(forms.Form):
    redeliver_failed_since = forms.DateTimeField(
        required=False,
        label=gettext_lazy("Redeliver failed since"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text=gettext_lazy(
            "Optional: re-send the deliveries to this endpoint that failed since then (server time zone)."
        ),
    )


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = (
        "url",
        "kind",
        "state_badge",
        "enable_button",
        "attempts",
        "failures",
        "streak",
        "last_success",
        "last_failure",
        "error_excerpt",
    )
    list_display_links = ("url",)
    search_fields = ("url",)
    actions = None
    readonly_fields = (
        "url",
        "kind",
        "integration",
        "attempts",
        "failures",
        "consecutive_failures",
        "failing_since",
        "last_success_at",
        "last_failure_at",
        "last_error",
        "disabled_at",
        "alerted_at",
        "created_at",
    )
    exclude = ("key",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("State"), ordering="disabled_at")
    def state_badge(self, endpoint: Endpoint) -> str:
        return format_html(
            '<span class="endpoint-state" style="color:#fff;background:{};padding:1px 6px;border-radius:8px">{}</span>',
            STATE_COLOURS[endpoint.state],
            endpoint.state_label,
        )

    @admin.display(description=gettext_lazy("In a row"), ordering="consecutive_failures")
    def streak(self, endpoint: Endpoint) -> int:
        return endpoint.consecutive_failures

    @admin.display(description=gettext_lazy("Last success"), ordering="last_success_at")
    def last_success(self, endpoint: Endpoint) -> str:
        return _moment(endpoint.last_success_at)

    @admin.display(description=gettext_lazy("Last failure"), ordering="last_failure_at")
    def last_failure(self, endpoint: Endpoint) -> str:
        return _moment(endpoint.last_failure_at)

    @admin.display(description=gettext_lazy("Last error"))
    def error_excerpt(self, endpoint: Endpoint) -> str:
        return endpoint.last_error[:80] + ("…" if len(endpoint.last_error) > 80 else "")

    @admin.display(description="", empty_value="")
    def enable_button(self, endpoint: Endpoint) -> str:
        label = _("Re-enable…") if endpoint.disabled_at else _("Redeliver…") if endpoint.consecutive_failures else ""
        if not label:
            return ""
        url = reverse("admin:workflows_endpoint_enable", args=[endpoint.pk])
        return format_html('<a class="button endpoint-enable" style="white-space:nowrap" href="{}">{}</a>', url, label)

    def get_urls(self):
        enable = self.admin_site.admin_view(self.enable_view)
        return [path("<int:endpoint_id>/enable/", enable, name="workflows_endpoint_enable"), *super().get_urls()]

    def enable_view(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        """Re-enable an endpoint (managers only), optionally re-queuing what failed there since a time."""
        if not is_manager(request.user):
            raise PermissionDenied
        endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
        form = EnableForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            run_ids = services.endpoint_enable(
                endpoint=endpoint, redeliver_failed_since=form.cleaned_data["redeliver_failed_since"]
            )
            message = (
                _("%(url)s is enabled; %(count)d failed run(s) queued for redelivery.")
                if run_ids
                else _("%(url)s is enabled.")
            )
            self.message_user(request, message % {"url": endpoint.url, "count": len(run_ids)}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:workflows_endpoint_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": endpoint,
            "form": form,
            "title": _("Re-enable %(url)s") % {"url": endpoint.url},
        }
        return TemplateResponse(request, "admin/workflows/endpoint/enable.html", context)

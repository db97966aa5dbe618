"""Admin of the reports room: the Reports page as the changelist of the `ConversationReport` proxy (so it is listed
in the admin index and sidebar, for managers only), and the two report filters attached to the conversation list."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse

from conversations.roles import is_manager
from reports.admin_filters import attach_report_filters
from reports.models import ConversationReport
from reports.pages import reports_view


@admin.register(ConversationReport)
class ConversationReportAdmin(admin.ModelAdmin):
    """Support managers' conversation reports; nothing to add, change or delete."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_manager(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_manager(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> TemplateResponse:
        """The Reports page instead of a list of rows."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return reports_view(self, request)


attach_report_filters()

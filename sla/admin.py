"""Admin of the SLA app: calendars (with a holidays preview page per year), policies and a read-only target list.

The targets inline on the conversation page belongs to the conversations admin; it reads
`sla.selectors.targets_for` and `sla.selectors.remaining_seconds`.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from sla.calendars import holidays_for_year
from sla.models import BusinessHours, SlaPolicy, SlaTarget
from sla.selectors import remaining_seconds


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "holidays_country", "holidays_subdivision", "updated_at"]
    search_fields = ["name"]
    readonly_fields = ["holidays_preview_link"]

    @admin.display(description="Holidays")
    def holidays_preview_link(self, obj: BusinessHours) -> str:
        if not obj.pk:
            return "Save the calendar to preview its holidays."
        url = reverse("admin:sla_businesshours_holidays", args=[obj.pk])
        return format_html('<a href="{}">Preview the closed dates of {}</a>', url, dt.date.today().year)

    def get_urls(self):
        custom = [
            path("<int:pk>/holidays/", self.admin_site.admin_view(self.holidays_view),
                 name="sla_businesshours_holidays"),
        ]
        return custom + super().get_urls()

    def holidays_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The public holidays and custom closed dates of one year (`?year=`, default this year)."""
        calendar = get_object_or_404(BusinessHours, pk=pk)
        if not self.has_view_permission(request, calendar):
            return HttpResponse(status=403)
        raw_year = request.GET.get("year", "")
        year = int(raw_year) if raw_year.isdigit() and 1900 <= int(raw_year) <= 2200 else dt.date.today().year
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": calendar,
            "title": f"Closed dates of {calendar.name} in {year}",
            "year": year,
            "previous_year": year - 1,
            "next_year": year + 1,
            "closed_dates": holidays_for_year(calendar.holidays_country, calendar.holidays_subdivision,
                                              calendar.extra_holidays, year),
        }
        return TemplateResponse(request, "admin/sla/businesshours/holidays.html", context)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "active", "business_hours", "first_response_minutes",
                    "next_response_minutes", "resolution_minutes", "warning_percent"]
    list_editable = ["position", "active"]
    list_filter = ["active", "business_hours"]
    list_select_related = ["business_hours"]
    search_fields = ["name"]
    autocomplete_fields = ["business_hours"]
    fieldsets = [
        (None, {"fields": ["name", "position", "active", "match"]}),
        ("Targets (minutes)", {"fields": ["first_response_minutes", "next_response_minutes", "resolution_minutes"]}),
        ("Clock", {"fields": ["business_hours", "pause_on", "warning_percent"]}),
    ]


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    """Targets are moved by events and the sweep only: read-only here."""

    list_display = ["conversation", "metric", "state", "policy", "due_at", "remaining", "breached_at", "warned"]
    list_filter = ["state", "metric", "policy"]
    list_select_related = ["conversation", "policy"]
    date_hierarchy = "started_at"
    raw_id_fields = ["conversation"]

    @admin.display(description="Remaining")
    def remaining(self, obj: SlaTarget) -> str:
        seconds = remaining_seconds(obj)
        if seconds is None:
            return "—"
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}h {seconds % 3600 // 60:02d}m"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

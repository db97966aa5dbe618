"""Admin of the SLA app: calendars (country/subdivision pickers, this year's closed dates on the form and a preview
page per year), policies, a read-only target list, and the targets inline on the conversation page.

The conversations admin never imports sla: `attach_conversation_inline` adds `SlaTargetInline` to the registered
conversation admin when this module is autodiscovered (sla comes after conversations in INSTALLED_APPS).
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

import holidays as holidays_lib
from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import dateformat
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from conversations import clock
from conversations.admin.base import ReadOnlyInline
from conversations.choices import CONDITION_OPERATOR_LABELS, Channel, Priority
from conversations.models import Conversation, Team
from sla.calendars import holidays_for_year
from sla.matching import FIELDS, OPS
from sla.models import PAUSABLE_STATUSES, BusinessHours, SlaPolicy, SlaTarget
from sla.selectors import paused_seconds, remaining_seconds, uses_business_time
from sla.widgets import WEEKDAYS, ConditionBuilderWidget, DateListWidget, WeekGridWidget

PREVIEW_ROWS = 40


@cache
def country_choices() -> list[tuple[str, str]]:
    """Every country the `holidays` package knows, by name, for the calendar form's picker."""
    names = {codes[1]: module.replace("_", " ").title() for module, codes in holidays_lib.registry.COUNTRIES.items()}
    supported = holidays_lib.list_supported_countries()  # also lists alpha-3 aliases; the picker offers alpha-2
    return [("", "No public holidays")] + sorted(
        ((code, f"{name} ({code})") for code, name in names.items() if code in supported), key=lambda c: c[1]
    )


@cache
def subdivision_choices() -> list:
    """Subdivisions grouped by country; the model's validation checks the pair belongs together."""
    supported = holidays_lib.list_supported_countries()
    groups = [
        (label, [(sub, f"{sub} ({code})") for sub in supported[code]])
        for code, label in country_choices()
        if code and supported[code]
    ]
    return [("", _("Whole country"))] + groups


@cache
def timezone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone, by name (the calendar's hours are in its local time)."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def match_fields() -> list[dict]:
    """What a policy may select on (sla.matching.FIELDS), labelled, with the values to pick from where known."""
    teams = [[name, name] for name in Team.objects.order_by("name").values_list("name", flat=True)]
    choices = {
        "conversation.channel": Channel.choices,
        "conversation.priority": Priority.choices,
        "conversation.team": teams,
    }
    labels = {
        "conversation.channel": _("Channel"),
        "conversation.priority": _("Priority"),
        "conversation.team": _("Team"),
        "contact.segment": _("Contact segment"),
    }
    return [
        {
            "value": field,
            "label": labels.get(field, field),
            **({"choices": [list(choice) for choice in choices[field]]} if choices.get(field) else {}),
        }
        for field in FIELDS
    ]


MATCH_OPERATORS = [
    {"value": op, "label": CONDITION_OPERATOR_LABELS.get(op, op), "kind": kind} for op, (_, _, kind) in OPS.items()
]


INTERVAL_POSITION = re.compile(r"^Interval (\d+): ")


def name_interval(message: str, intervals: list) -> str:
    """'Interval 2: …' -> 'Tuesday 09:00 – ?: …' when the position names a grid row."""
    found = INTERVAL_POSITION.match(message)
    item = intervals[int(found.group(1))] if found and int(found.group(1)) < len(intervals) else None
    if not isinstance(item, dict) or item.get("weekday") not in range(7):
        return message
    hours = f"{item.get('start') or '?'} – {item.get('end') or '?'}"
    return f"{WEEKDAYS[item['weekday']]} {hours}: {message[found.end() :]}"


def format_remaining(seconds: int | None) -> str:
    """ "1h 05m" left, "-0h 10m" overdue, "—" for finished clocks."""
    if seconds is None:
        return "—"
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return f"{sign}{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def time_left(target: SlaTarget) -> str:
    """The time left on the target's own clock, saying which kind: "0h 45m business time" / "calendar time"."""
    seconds = remaining_seconds(target)
    if seconds is None:
        return format_remaining(seconds)
    kind = _("business time") if uses_business_time(target) else _("calendar time")
    return format_html('{} <span class="sla-time-kind">{}</span>', format_remaining(seconds), kind)


class BusinessHoursForm(forms.ModelForm):
    """Opening hours as a week grid and closed dates as date pickers (both keep a JSON toggle); country and
    subdivision are picked from the lists of the `holidays` package instead of typed."""

    timezone = forms.ChoiceField(choices=timezone_choices, label=_("Time zone"))
    holidays_country = forms.ChoiceField(choices=country_choices, required=False, label=_("Public holidays of"))
    holidays_subdivision = forms.ChoiceField(choices=subdivision_choices, required=False, label=_("Subdivision"))

    class Meta:
        model = BusinessHours
        fields = ["name", "timezone", "intervals", "holidays_country", "holidays_subdivision", "extra_holidays"]
        widgets = {"intervals": WeekGridWidget(), "extra_holidays": DateListWidget()}
        labels = {"intervals": _("Opening hours"), "extra_holidays": _("Extra closed dates")}
        help_texts = {"intervals": "", "extra_holidays": _("Days the team is closed besides the public holidays.")}

    def _post_clean(self) -> None:
        """The model names a bad interval by its position in the JSON; the grid's user reads its day and hours."""
        super()._post_clean()
        intervals = self.instance.intervals  # the field left cleaned_data with its error
        if "intervals" in self.errors and isinstance(intervals, list):
            self.errors["intervals"] = self.error_class(
                [name_interval(message, intervals) for message in self.errors["intervals"]]
            )


class SlaPolicyForm(forms.ModelForm):
    """The match condition with the condition builder, the pausing statuses as tick boxes with their labels."""

    pause_on = forms.MultipleChoiceField(
        choices=[(status.value, status.label) for status in PAUSABLE_STATUSES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Pause the clocks while"),
        help_text=_("Resolved and closed stop the clocks instead."),
    )

    class Meta:
        model = SlaPolicy
        fields = "__all__"
        widgets = {"match": ConditionBuilderWidget(fields=match_fields, operators=MATCH_OPERATORS)}
        labels = {"match": _("Applies to")}
        help_texts = {
            "match": _(
                "Conversations this policy covers; the first active policy (by position) that "
                "matches wins. No conditions: every conversation."
            )
        }


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    form = BusinessHoursForm
    list_display = ["name", "timezone", "holidays_country", "holidays_subdivision", "updated_at"]
    search_fields = ["name"]
    readonly_fields = ["holidays_preview"]

    @admin.display(description=_("Closed dates this year"))
    def holidays_preview(self, obj: BusinessHours) -> str:
        """This year's public holidays and custom dates, with a link to the page that browses other years."""
        if not obj.pk:
            return _("Save the calendar to preview its holidays.")
        year = clock.now().year
        days = holidays_for_year(obj.holidays_country, obj.holidays_subdivision, obj.extra_holidays, year)
        rows = format_html_join(
            "",
            "<li>{} ({}): {}</li>",
            ((day.isoformat(), dateformat.format(day, "l"), name) for day, name in days[:PREVIEW_ROWS]),
        )
        url = reverse("admin:sla_businesshours_holidays", args=[obj.pk])
        return format_html(
            '<ul>{}</ul><a href="{}?year={}">{}</a>',
            rows or format_html("<li>{}</li>", _("None in %(year)s") % {"year": year}),
            url,
            year,
            _("Browse the closed dates by year"),
        )

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/holidays/", self.admin_site.admin_view(self.holidays_view), name="sla_businesshours_holidays"
            ),
        ]
        return custom + super().get_urls()

    def holidays_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The public holidays and custom closed dates of one year (`?year=`, default this year)."""
        calendar = get_object_or_404(BusinessHours, pk=pk)
        if not self.has_view_permission(request, calendar):
            return HttpResponse(status=403)
        raw_year = request.GET.get("year", "")
        year = int(raw_year) if raw_year.isdigit() and 1900 <= int(raw_year) <= 2200 else clock.now().year
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": calendar,
            "title": _("Closed dates of %(calendar_name)s in %(year)s")
            % {"calendar_name": calendar.name, "year": year},
            "year": year,
            "previous_year": year - 1,
            "next_year": year + 1,
            "closed_dates": holidays_for_year(
                calendar.holidays_country, calendar.holidays_subdivision, calendar.extra_holidays, year
            ),
        }
        return TemplateResponse(request, "admin/sla/businesshours/holidays.html", context)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = [
        "name",
        "position",
        "active",
        "business_hours",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "warning_percent",
    ]
    list_editable = ["position", "active"]
    list_filter = ["active", "business_hours"]
    list_select_related = ["business_hours"]
    search_fields = ["name"]
    autocomplete_fields = ["business_hours"]
    fieldsets = [
        (None, {"fields": ["name", "position", "active", "match"]}),
        (_("Targets (minutes)"), {"fields": ["first_response_minutes", "next_response_minutes", "resolution_minutes"]}),
        (_("Clock"), {"fields": ["business_hours", "pause_on", "warning_percent"]}),
    ]


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    """Targets are moved by events and the sweep only: read-only here."""

    list_display = ["conversation", "metric", "state", "policy", "due_at", "remaining", "breached_at", "warned"]
    list_filter = ["state", "metric", "policy"]
    list_select_related = ["conversation", "policy__business_hours"]
    date_hierarchy = "started_at"
    raw_id_fields = ["conversation"]

    @admin.display(description=_("Time left"))
    def remaining(self, obj: SlaTarget) -> str:
        return time_left(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class SlaTargetInline(ReadOnlyInline, admin.TabularInline):
    """The conversation's SLA clocks with the time left; shown to whoever may view the conversation."""

    model = SlaTarget
    fields = ["metric", "state", "policy", "due_at", "remaining", "paused", "breached_at", "met_at"]
    readonly_fields = fields
    ordering = ["started_at", "id"]
    verbose_name = _("SLA target")
    verbose_name_plural = _("SLA targets")

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("policy__business_hours")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # Agents have no SLA permissions but must see the clocks of the conversations they work.
        return request.user.has_perm("conversations.view_conversation")

    @admin.display(description=_("Time left"))
    def remaining(self, obj: SlaTarget) -> str:
        return time_left(obj)

    @admin.display(description=_("Paused (clock time)"))
    def paused(self, obj: SlaTarget) -> str:
        return format_remaining(paused_seconds(obj))


def attach_conversation_inline(site: admin.AdminSite = admin.site) -> None:
    """Show the SLA targets on the conversation page (conversations never imports sla, so the hook lives here)."""
    try:
        conversation_admin = site.get_model_admin(Conversation)
    except admin.exceptions.NotRegistered:
        return
    if SlaTargetInline not in conversation_admin.inlines:
        conversation_admin.inlines = [*conversation_admin.inlines, SlaTargetInline]


attach_conversation_inline()

from sla.admin_workspace import attach_to_conversation_admin  # noqa: E402  (the agent workspace's SLA parts)

attach_to_conversation_admin()

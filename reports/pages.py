"""The Reports page of the admin (docs/reports.md): a period and a grouping picked in a form, the report of
`reports.selectors` as charts and tables, every figure a link to the conversation list it counts, a CSV button.

Links filter the conversation list with its own filters (creation date range, channel, team, tag) plus the two the
reports room attaches to it (`reports.admin_filters`: `report_figure`, `report_agent`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations import clock
from reports import charts
from reports.groupings import GROUPINGS
from reports.periods import Period, period_for, zone_of
from reports.selectors import conversation_report

PERIOD_PRESETS = (7, 30, 90)
GROUP_LABELS = {"day": _("Day"), "agent": _("Agent"), "team": _("Team"), "channel": _("Channel"), "tag": _("Tag")}
VOLUME_SERIES = [
    charts.Series(_("created"), "#0969da", lambda row: row["created"]),
    charts.Series(_("resolved"), "#1a7f37", lambda row: row["resolved"], "resolved"),
    charts.Series(_("reopened"), "#9a6700", lambda row: row["reopened"], "reopened"),
]
TIME_SERIES = [
    charts.Series(
        _("median first response"), "#8250df", lambda row: row["first_response_minutes"]["median"], "responded"
    ),
    charts.Series(_("median resolution"), "#1a7f37", lambda row: row["resolution_minutes"]["median"], "resolved"),
]


class ReportForm(forms.Form):
    """Period (both days included, in the viewer's time zone) and grouping, checked as the API checks them."""

    # An <input type="date"> takes only ISO dates: a localised value (07.12.2026) would leave it blank.
    since = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label=_("Since")
    )
    until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label=_("Until")
    )
    group_by = forms.ChoiceField(choices=list(GROUP_LABELS.items()), required=False, initial="day", label=_("Group by"))

    def __init__(self, *args: Any, user=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        since, until = cleaned.get("since"), cleaned.get("until")
        try:
            period = period_for(
                user=self.user, since=since.isoformat() if since else None, until=until.isoformat() if until else None
            )
        except ValidationError as exc:
            raise ValidationError({field: messages for field, messages in exc.message_dict.items()}) from None
        return {"period": period, "group_by": cleaned.get("group_by") or "day"}


class Links:
    """Builds the conversation-list URL for a figure of a row (or of the total)."""

    def __init__(self, period: Period, group_by: str) -> None:
        self.base = reverse("admin:conversations_conversation_changelist")
        self.period = {"created_at__gte": period.start.isoformat(), "created_at__lt": period.end.isoformat()}
        self.grouping, self.zone = GROUPINGS[group_by], period.zone

    def __call__(self, row: dict | None, figure: str = "") -> str:
        params = dict(self.period)
        if row is not None:
            params.update(self.grouping.admin_filter(row["key"], self.zone))
        if figure:
            params["report_figure"] = figure
        return f"{self.base}?{urlencode(params)}"


def _cells(figures: dict, link: Links, row: dict | None) -> dict[str, str]:
    """The link of every figure of one row."""
    return {
        name: link(row, figure)
        for name, figure in (
            ("created", ""),
            ("resolved", "resolved"),
            ("reopened", "reopened"),
            ("first_response", "responded"),
            ("resolution", "resolved"),
            ("csat", "csat_answered"),
            ("satisfied", "csat_satisfied"),
            ("sla_targets", "sla_targets"),
            ("sla_breached", "sla_breached"),
        )
    }


def _presets(user) -> list[tuple[int, str, str]]:
    today = timezone.localdate(clock.now(), zone_of(user))
    return [(days, (today - dt.timedelta(days=days)).isoformat(), today.isoformat()) for days in PERIOD_PRESETS]


def report_context(request: HttpRequest) -> dict[str, Any]:
    """The page's context: the form, and for a valid one the report with its links, charts and CSV URL."""
    form = ReportForm(request.GET, user=request.user)
    context: dict[str, Any] = {"form": form, "presets": _presets(request.user), "report": None}
    if not form.is_valid():
        return context
    cleaned = form.cleaned_data
    period, group_by = cleaned["period"], cleaned["group_by"]
    report = conversation_report(period=period, group_by=group_by)
    link = Links(period, group_by)
    rows = [{**row, "links": _cells(row, link, row)} for row in report["rows"]]
    window = {"since": period.since.isoformat(), "until": period.until.isoformat()}
    context.update(
        form=ReportForm(initial={**window, "group_by": group_by}, user=request.user),
        report=report,
        rows=rows,
        total_links=_cells(report["total"], link, None),
        period=period,
        group_by=group_by,
        group_label=GROUP_LABELS[group_by],
        zone=period.zone.key,
        volume_chart=charts.grouped_bars_svg(rows, VOLUME_SERIES, link, label=_("Conversations per group")),
        volume_legend=charts.legend(VOLUME_SERIES),
        time_chart=charts.grouped_bars_svg(rows, TIME_SERIES, link, label=_("Median minutes per group"), unit=" min"),
        time_legend=charts.legend(TIME_SERIES),
        csv_url=f"{reverse('export-conversations')}?{urlencode(window)}",
        api_url=f"{reverse('analytics-conversations')}?{urlencode({**window, 'group_by': group_by})}",
    )
    return context


def reports_view(model_admin, request: HttpRequest) -> TemplateResponse:
    """Render the Reports page inside the admin chrome."""
    return TemplateResponse(
        request,
        "admin/reports/report.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": _("Conversation reports"),
            **report_context(request),
        },
    )

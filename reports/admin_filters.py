"""Two list filters the Reports page links through, attached to the conversation list (conversations never imports
reports, so the hook lives here, as `sla.admin` attaches its inline): `report_figure` keeps the conversations a
figure counts (resolved at least once, reopened, answered, ...) and `report_agent` those a report's `agent` row
counts (the assignee at the last resolution, else the current one). Their querysets use the report's own
expressions (`reports.facts`, `reports.groupings`), so a list never disagrees with the figure that links to it.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from conversations.models import Conversation, Survey
from reports.facts import reopened, resolved
from reports.groupings import agent_at_resolution
from reports.selectors import SATISFIED_SCORE
from sla.models import SlaTarget, TargetState

NO_AGENT = "none"


def _answered(**extra) -> Exists:
    return Exists(Survey.objects.filter(conversation=OuterRef("pk"), score__isnull=False, **extra))


def _targets(**extra) -> Exists:
    return Exists(SlaTarget.objects.filter(conversation=OuterRef("pk"), **extra))


FIGURES = {
    "resolved": (_("Resolved at least once"), lambda qs: qs.filter(resolved())),
    "reopened": (_("Reopened"), lambda qs: qs.filter(reopened())),
    "responded": (_("Answered by an agent"), lambda qs: qs.filter(first_response_at__isnull=False)),
    "csat_answered": (_("CSAT answered"), lambda qs: qs.filter(_answered())),
    "csat_satisfied": (_("CSAT satisfied (4-5)"), lambda qs: qs.filter(_answered(score__gte=SATISFIED_SCORE))),
    "sla_targets": (_("With SLA targets"), lambda qs: qs.filter(_targets())),
    "sla_breached": (_("SLA breached"), lambda qs: qs.filter(_targets(state=TargetState.BREACHED))),
}


class ReportFigureFilter(admin.SimpleListFilter):
    """The conversations one report figure counts."""

    title = _("report figure")
    parameter_name = "report_figure"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [(code, label) for code, (label, _) in FIGURES.items()]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        figure = FIGURES.get(self.value() or "")
        return figure[1](queryset) if figure else queryset


class ReportAgentFilter(admin.SimpleListFilter):
    """The conversations of one `agent` row of the report (assignee at the last resolution, else current)."""

    title = _("agent at resolution")
    parameter_name = "report_agent"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        agents = get_user_model().objects.filter(agent_profile__isnull=False).order_by("username")
        return [(str(user.pk), user.get_full_name() or user.get_username()) for user in agents] + [
            (NO_AGENT, _("Unassigned"))
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        keyed = queryset.annotate(r_agent=agent_at_resolution(""))
        if value == NO_AGENT:
            return keyed.filter(r_agent__isnull=True)
        return keyed.filter(r_agent=int(value)) if value.isdigit() else queryset.none()


def attach_report_filters(site: admin.AdminSite = admin.site) -> None:
    """Add the two filters to the conversation list (once)."""
    try:
        conversation_admin = site.get_model_admin(Conversation)
    except admin.exceptions.NotRegistered:
        return
    extra = [item for item in (ReportFigureFilter, ReportAgentFilter) if item not in conversation_admin.list_filter]
    if extra:
        conversation_admin.list_filter = [*conversation_admin.list_filter, *extra]

"""Routing in admin (docs/routing.md): the Queues page of a team, the agent's one-click status switch, skills as text.

The Queues page (`<team>/queue/` on the team admin) shows the waiting conversations in the order the queue takes
them, how long each has waited, and the team's agents with status and load/capacity. The status switch is a small
form in the admin header (`{% agent_status_switch %}`, see templatetags/routing.py) posting to
`agentprofile/my-status/`, which calls the same service as the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from conversations import services
from conversations.choices import AgentStatus
from conversations.models import AgentProfile, Team
from conversations.roles import is_agent
from conversations.routing.queue import online_agents, queue_position_rows
from conversations.routing.skills import clean_skills


class SkillsFormField(forms.CharField):
    """Skills typed as "german, billing": a list of names for the model, comma-separated text for people."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Comma-separated, e.g. german, billing."))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, (list, tuple)):
            return ", ".join(value)
        return value or ""

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        names = [name for name in (part.strip() for part in text.split(",")) if name]
        try:
            return clean_skills(names)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return clean_skills(initial or []) != self.to_python(data)
        except forms.ValidationError:
            return True


def waited_words(waited) -> str:
    """A wait as people read it: "4 min", "2 h 5 min", "3 d 1 h"."""
    minutes = max(int(waited.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)s min") % {"minutes": minutes}


class QueuePageMixin:
    """The team admin's Queues page and the queue columns of the list and change page."""

    def get_urls(self):
        page = self.admin_site.admin_view(self.queue_view)
        return [path("<path:object_id>/queue/", page, name="conversations_team_queue"), *super().get_urls()]

    def queue_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not is_agent(request.user):
            raise PermissionDenied
        team = get_object_or_404(Team, pk=object_id) if str(object_id).isdigit() else None
        if team is None:
            raise PermissionDenied
        rows = queue_position_rows(team)
        for position, row in enumerate(rows, start=1):
            row["position"], row["waited_words"] = position, waited_words(row["waited"])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Queue of %(team_name)s") % {"team_name": team.name},
            "team": team,
            "rows": rows,
            "agents": online_agents(team),
            "opts": self.model._meta,
            "subtitle": team.name,
        }
        return TemplateResponse(request, "admin/conversations/team/queue.html", context)

    def queue_link(self, team: Team) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:conversations_team_queue", args=[team.pk]), _("Queue"))

    queue_link.short_description = _("Queue")  # type: ignore[attr-defined]

    def members_with_skills(self, team: Team) -> str:
        if not team.pk:
            return "–"
        rows = [
            (profile.user.get_username(), profile.get_status_display(), ", ".join(profile.skills) or "no skills")
            for profile in team.agents.select_related("user").order_by("user__username")
        ]
        return format_html_join(mark_safe("<br>"), "{} ({}): {}", rows) or _("No agents yet.")

    members_with_skills.short_description = _("Agents and skills")  # type: ignore[attr-defined]


class AgentStatusMixin:
    """`agentprofile/my-status/`: the signed-in agent sets their own status with one click."""

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.my_status_view))
        return [path("my-status/", view, name="conversations_agentprofile_my_status"), *super().get_urls()]

    def my_status_view(self, request: HttpRequest) -> HttpResponse:
        profile = AgentProfile.objects.filter(user=request.user).first()
        status = request.POST.get("status", "")
        if profile is None:
            messages.error(request, _("You have no agent profile."))
        elif status not in AgentStatus.values:
            messages.error(request, _("Choose online, away or offline."))
        else:
            services.agent_set_status(profile=profile, status=status)
            messages.success(request, _("You are %(value0)s.") % {"value0": AgentStatus(status).label.lower()})
        back = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("admin:index")
        return HttpResponseRedirect(back)

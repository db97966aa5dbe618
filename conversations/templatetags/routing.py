"""`{% agent_status_switch %}`: the signed-in agent's status (online, away, offline) as one-click buttons in the
admin header (docs/routing.md); nothing for a user without an agent profile."""

from django import template
from django.urls import reverse

from conversations.choices import AgentStatus
from conversations.models import AgentProfile

register = template.Library()


@register.inclusion_tag("admin/conversations/agent_status_switch.html", takes_context=True)
def agent_status_switch(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    profile = AgentProfile.objects.filter(user=user).only("status").first() if user and user.is_authenticated else None
    return {
        "profile": profile,
        "choices": AgentStatus.choices,
        "request": request,
        "action": reverse("admin:conversations_agentprofile_my_status") if profile else "",
        "csrf_token": context.get("csrf_token"),
    }

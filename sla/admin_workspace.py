"""What the SLA app adds to the agent's workspace (conversations never imports sla, so it is attached from here):
a badge per SLA target on the conversation page ("First response: due in 0h 40m", "breached"), the SLA column of the
conversation list (the most urgent target, coloured when breached or due soon), and the Breached / Due soon views.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations import clock
from conversations.admin import workspace
from conversations.models import Conversation
from sla.models import SlaTarget
from sla.selectors import (
    due_soon_conversations_q,
    most_urgent_target,
    overdue_conversations_q,
    remaining_seconds,
    targets_for,
    urgency,
    uses_business_time,
)

CSS = {"breached": "ws-breached", "due_soon": "ws-due-soon", "running": "", "paused": "", "met": "ws-ok"}


def _duration(seconds: int) -> str:
    """ "2h 05m" or "5m": short enough for a badge and a list cell."""
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def target_text(target: SlaTarget, state: str) -> str:
    """The state of one target in words: due in, overdue by, breached, paused with time left, met."""
    left = remaining_seconds(target, clock.now())
    if state == "breached":
        if left is not None and left < 0:
            return gettext("overdue %(time)s") % {"time": _duration(left)}
        return gettext("breached")
    if state == "paused":
        return gettext("paused, %(time)s left") % {"time": _duration(left or 0)}
    if state == "met":
        return gettext("met")
    return gettext("due in %(time)s") % {"time": _duration(left or 0)}


def sla_badges(request: HttpRequest, conversation: Conversation) -> str:
    """One badge per current target, in metric order (first response, next response, resolution)."""
    now = clock.now()
    badges = [
        (CSS[state], target.get_metric_display(), target_text(target, state), time_kind(target, state))
        for target in targets_for(conversation)
        for state in [urgency(target, now)]
    ]
    return format_html_join("", '<span class="ws-badge sla-badge {}">{}: {}{}</span>', badges)


def time_kind(target: SlaTarget, state: str) -> str:
    """ " in business time" after a time counted on the policy's calendar (nights and weekends left out), so "due in
    2h" is not read as two hours from now; nothing after calendar time or a state without a time."""
    if state in ("met",) or remaining_seconds(target, clock.now()) is None or not uses_business_time(target):
        return ""
    text = target_text(target, state)
    return " in business time" if any(char.isdigit() for char in text) else ""


@admin.display(description=_("SLA"))
def sla_column(conversation: Conversation) -> str:
    """The list's SLA cell: the most urgent target (reads the prefetched targets: no query per row)."""
    found = most_urgent_target(conversation, clock.now())
    if found is None:
        return "–"
    target, state = found
    return format_html(
        '<span class="sla-cell {}">{}</span><br><span class="ws-who">{}</span>',
        CSS[state],
        target_text(target, state),
        target.get_metric_display(),
    )


def attach_to_conversation_admin(site: admin.AdminSite = admin.site) -> None:
    """Add the column, the views and the badges to the registered conversation admin (once)."""
    try:
        conversation_admin = site.get_model_admin(Conversation)
    except admin.exceptions.NotRegistered:
        return
    if sla_column not in conversation_admin.list_display:
        conversation_admin.list_display = [*conversation_admin.list_display, sla_column]
    workspace.register_list_prefetch("sla_targets")
    workspace.register_quick_view(
        workspace.QuickView(
            "breached", _("Breached"), lambda request, qs: qs.filter(overdue_conversations_q(clock.now()))
        )
    )
    workspace.register_quick_view(
        workspace.QuickView(
            "due_soon", _("Due soon"), lambda request, qs: qs.filter(due_soon_conversations_q(clock.now()))
        )
    )
    workspace.register_panel(workspace.Panel("bar", sla_badges))

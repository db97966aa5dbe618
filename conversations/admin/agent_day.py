"""The agent's day in admin (docs/agent_day.md): saved views in the list's sidebar ("Save these filters as a view"),
snooze presets, links, merge with a confirmation of what moves, presence and a live thread (a small JSON poll),
@mention autocomplete, the notification count and keyboard shortcuts on the conversation page.

Every write goes through `conversations.services`; this module only configures pages and turns admin query strings
into the API's filter keys (so a view saved here lists exactly what the API lists for it).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse, QueryDict
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import dateformat
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from conversations import clock, services
from conversations.admin import workspace
from conversations.choices import Status
from conversations.models import Conversation, LinkKind, Message, Notification, PresenceState, Tag, Team
from conversations.preferences import time_zone_of
from conversations.roles import is_manager
from conversations.services import views as saved_views

User = get_user_model()
LIVE_POLL_SECONDS = 3
MERGE_TEMPLATE = "admin/conversations/conversation/merge_confirm.html"
# Admin list parameters and the API filter key each one is (quick views map to the filter they stand for).
ADMIN_TO_API = {
    "status__exact": "status",
    "priority__exact": "priority",
    "channel__exact": "channel",
    "assignee__id__exact": "assignee",
    "team__id__exact": "team",
    "q": "search",
}


# Saved views in the list ----------------------------------------------------------------------------------------------


class SavedViewFilter(admin.SimpleListFilter):
    """`?saved_view=<id>`: the conversations a saved view lists, through the API's FilterSet."""

    title = _("saved view")
    parameter_name = "saved_view"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [(str(view.pk), view.name) for view in saved_views.views_visible_to(request.user)]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        view = saved_views.views_visible_to(request.user).filter(pk=value).first() if (value or "").isdigit() else None
        if view is None:
            return queryset
        filterset = saved_views.filterset_for(view.filters or {}, queryset)
        return filterset.qs if filterset.is_valid() else queryset.none()


def api_filters_from(request: HttpRequest) -> dict[str, str]:
    """The list's current admin filters as the API's filter keys (what a saved view stores)."""
    params, filters = request.GET, {}
    for admin_key, api_key in ADMIN_TO_API.items():
        if params.get(admin_key):
            filters[api_key] = params[admin_key]
    if params.get("tags__id__exact", "").isdigit():
        filters["tag"] = (
            Tag.objects.filter(pk=int(params["tags__id__exact"])).values_list("name", flat=True).first() or ""
        )
    view = params.get("view")
    if view == "mine":
        filters.update(assignee=request.user.get_username(), snoozed="false")
    elif view == "unassigned":
        filters["assignee"] = "none"
    elif view == "snoozed":
        filters["snoozed"] = "true"
    return {key: value for key, value in filters.items() if value}


def sidebar_views(request: HttpRequest) -> list[dict[str, Any]]:
    """The saved views the agent sees, each with its count (one query for all) and its list link."""
    views = list(saved_views.views_visible_to(request.user)[:50])
    counts = saved_views.view_counts(views)
    current = request.GET.get(SavedViewFilter.parameter_name, "")
    return [
        {
            "name": view.name,
            "count": counts.get(view.pk, 0),
            "url": f"?saved_view={view.pk}",
            "current": str(view.pk) == current,
            "shared": view.shared_with,
        }
        for view in views
    ]


class SaveViewForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("View name"))
    shared_with = forms.CharField(required=False, max_length=30, initial="me", label=_("Shared with"))
    query = forms.CharField(required=False, max_length=2000, label=_("Query"))


def save_view(model_admin, request: HttpRequest) -> HttpResponseRedirect:
    """ "Save these filters as a view": type a name, press Save (the list's current filters become the view's)."""
    form = SaveViewForm(request.POST)
    changelist = reverse("admin:conversations_conversation_changelist")
    if not form.is_valid():
        model_admin.message_user(request, _("Give the view a name."), messages.ERROR)
        return HttpResponseRedirect(changelist)
    query = form.cleaned_data["query"].lstrip("?")
    listing = HttpRequest()
    listing.GET, listing.user = QueryDict(query), request.user
    try:
        view = saved_views.saved_view_create(
            owner=request.user,
            name=form.cleaned_data["name"],
            filters=api_filters_from(listing),
            shared_with=form.cleaned_data["shared_with"] or "me",
        )
    except (ValidationError, PermissionDenied) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        model_admin.message_user(request, _("View not saved: %(text)s") % {"text": text}, messages.ERROR)
        return HttpResponseRedirect(f"{changelist}?{query}")
    model_admin.message_user(request, _('Saved the view "%(view_name)s".') % {"view_name": view.name}, messages.SUCCESS)
    return HttpResponseRedirect(f"{changelist}?saved_view={view.pk}")


def changelist_context(request: HttpRequest) -> dict[str, Any]:
    manager = is_manager(request.user)
    return {
        "saved_views": sidebar_views(request),
        "can_share_views": manager,
        "share_teams": list(Team.objects.order_by("name").values_list("pk", "name")) if manager else [],
        "current_query": request.GET.urlencode(),
    }


# Snooze presets -------------------------------------------------------------------------------------------------------


def snooze_presets(user, now: dt.datetime | None = None) -> list[tuple[str, str, dt.datetime]]:
    """(key, label, time): tomorrow 9:00 and next Monday 9:00, in the agent's time zone."""
    zone = zoneinfo.ZoneInfo(time_zone_of(user))
    local = (now or clock.now()).astimezone(zone)
    nine = dt.time(9, 0)
    tomorrow = dt.datetime.combine(local.date() + dt.timedelta(days=1), nine, tzinfo=zone)
    monday = dt.datetime.combine(local.date() + dt.timedelta(days=7 - local.weekday()), nine, tzinfo=zone)
    return [("tomorrow", _("Tomorrow 9:00"), tomorrow), ("monday", _("Next Monday 9:00"), monday)]


def snooze_until_from(user, data) -> dt.datetime:
    """The time a snooze form asks for: a preset key, or a date (9:00 that day in the agent's zone)."""
    presets = {key: when for key, _, when in snooze_presets(user)}
    if data.get("preset") in presets:
        return presets[data["preset"]]
    try:
        day = dt.date.fromisoformat(data.get("date", ""))
    except ValueError as exc:
        raise ValidationError({"until": _("Choose a preset or a date.")}) from exc
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=zoneinfo.ZoneInfo(time_zone_of(user)))


def _back(conversation_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:conversations_conversation_change", args=[conversation_id]))


def _conversation_for(model_admin, request, object_id: str) -> Conversation:
    conversation = model_admin.get_object(request, object_id)
    if conversation is None or not model_admin.has_change_permission(request, conversation):
        raise PermissionDenied
    return conversation


def snooze_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
    conversation = _conversation_for(model_admin, request, object_id)
    try:
        until = snooze_until_from(request.user, request.POST)
        services.conversation_snooze(conversation=conversation, until=until, actor=request.user)
        model_admin.message_user(
            request, _("Snoozed until %(until)s.") % {"until": dateformat.format(until, "D d M H:i")}, messages.SUCCESS
        )
    except ValidationError as exc:
        model_admin.message_user(
            request, gettext("Not snoozed: %(reasons)s") % {"reasons": " ".join(exc.messages)}, messages.ERROR
        )
    return _back(conversation.pk)


def link_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
    conversation = _conversation_for(model_admin, request, object_id)
    other_id = request.POST.get("other", "").strip().lstrip("#")
    other = Conversation.objects.filter(pk=int(other_id)).first() if other_id.isdigit() and len(other_id) < 18 else None
    try:
        if other is None:
            raise ValidationError(_("No conversation with that number."))
        if request.POST.get("remove"):
            services.conversation_unlink(conversation=conversation, other=other, actor=request.user)
            done = gettext("Unlinked #%(number)s.") % {"number": other.pk}
        else:
            services.conversation_link(
                conversation=conversation, other=other, kind=request.POST.get("kind", ""), actor=request.user
            )
            done = gettext("Linked #%(number)s.") % {"number": other.pk}
        model_admin.message_user(request, done, messages.SUCCESS)
    except ValidationError as exc:
        model_admin.message_user(
            request, gettext("Not linked: %(reasons)s") % {"reasons": " ".join(exc.messages)}, messages.ERROR
        )
    return _back(conversation.pk)


# Presence and the live thread -----------------------------------------------------------------------------------------


def message_json(message: Message, conversation: Conversation) -> dict[str, Any]:
    """A thread message as the live poll appends it (the same fields the page shows)."""
    if message.author_id:
        who = message.author.get_full_name() or message.author.get_username()
    elif message.sender_type == "customer":
        who = conversation.contact.name or "Customer"
    else:
        who = message.get_sender_type_display()
    return {
        "id": message.pk,
        "kind": workspace.message_kind(message),
        "who": who,
        "label": "Internal note" if message.internal else message.get_sender_type_display(),
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "time": message.created_at.strftime("%Y-%m-%d %H:%M"),
    }


def live_view(model_admin, request: HttpRequest, object_id: str) -> JsonResponse:
    """The workspace's poll (every ~3 s): a heartbeat with the agent's state, answered with who else is here and
    the messages after `after` (one UPDATE and three small indexed reads, besides the session and permissions)."""
    conversation = (
        Conversation.objects.select_related("contact")
        .filter(pk=int(object_id) if object_id.isdigit() and len(object_id) < 18 else 0)
        .first()
    )
    if conversation is None or not request.user.has_perm("conversations.change_conversation"):
        raise PermissionDenied
    state = request.POST.get("state", PresenceState.VIEWING)
    if state in PresenceState.values:
        services.presence_beat(conversation=conversation, user=request.user, state=state)
    after = request.POST.get("after", "0")
    newer = (
        Message.objects.filter(conversation=conversation, pk__gt=int(after) if after.isdigit() else 0)
        .select_related("author")
        .order_by("created_at", "id")[:50]
    )
    others = [
        {"username": p.user.get_username(), "state": p.state}
        for p in services.present_on(conversation)
        if p.user_id != request.user.pk
    ]
    return JsonResponse(
        {"presence": others, "messages": [message_json(m, conversation) for m in newer], "status": conversation.status}
    )


# The conversation page's panels ---------------------------------------------------------------------------------------


def next_conversation(request: HttpRequest, conversation: Conversation) -> Conversation | None:
    """The next one to work: the oldest of mine still new or open (not snoozed), else the oldest unassigned one."""
    workable = Conversation.objects.filter(
        status__in=[Status.NEW, Status.OPEN], snoozed_until__isnull=True, merged_into__isnull=True
    ).exclude(pk=conversation.pk)
    return (
        workable.filter(assignee=request.user).order_by("created_at", "id").first()
        or workable.filter(assignee__isnull=True).order_by("created_at", "id").first()
    )


def agents_usernames() -> list[str]:
    """Who a note may mention (the autocomplete list): active staff, by username."""
    return list(
        User.objects.filter(is_active=True, is_staff=True).order_by("username").values_list("username", flat=True)[:500]
    )


def bar_panel(request: HttpRequest, conversation: Conversation) -> str:
    opened = request.GET.get("read", "")
    if opened.isdigit() and len(opened) < 18:  # arrived from the notification list: that one is read now
        services.notifications_mark_read(user=request.user, ids=[int(opened)])
    unread = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    return render_to_string(
        "admin/conversations/conversation/agent_day_bar.html",
        {
            "original": conversation,
            "unread": unread,
            "notifications_url": reverse("admin:conversations_notification_changelist"),
        },
    )


def side_panel(request: HttpRequest, conversation: Conversation) -> str:
    following = next_conversation(request, conversation)
    urls = {
        name: reverse(f"admin:conversations_conversation_{name}", args=[conversation.pk])
        for name in ("snooze", "link", "live")
    }
    return render_to_string(
        "admin/conversations/conversation/agent_day_side.html",
        {
            "original": conversation,
            "urls": urls,
            "presets": snooze_presets(request.user),
            "links": services.links_of(conversation),
            "link_kinds": LinkKind.choices,
            "next_url": reverse("admin:conversations_conversation_change", args=[following.pk]) if following else "",
            "usernames": agents_usernames(),
            "poll_seconds": LIVE_POLL_SECONDS,
            "last_message_id": conversation.messages.order_by("-id").values_list("id", flat=True).first() or 0,
            "me": request.user.get_username(),
        },
        request=request,
    )


workspace.register_panel(workspace.Panel("bar", bar_panel))
workspace.register_panel(workspace.Panel("side", side_panel))


# Merge into… (a bulk action with a confirmation of what moves) --------------------------------------------------------


class MergeForm(forms.Form):
    into = forms.IntegerField(
        min_value=1,
        label=_("Merge into conversation #"),
        help_text=_("The conversation that keeps the thread; the selected ones are closed."),
    )


def _what_moves(sources: list[Conversation]) -> list[dict[str, Any]]:
    counts = (
        Message.objects.filter(conversation__in=sources)
        .values("conversation")
        .annotate(messages=Count("id", filter=Q(internal=False)), notes=Count("id", filter=Q(internal=True)))
    )
    by_id = {row["conversation"]: row for row in counts}
    return [
        {
            "conversation": source,
            "messages": by_id.get(source.pk, {}).get("messages", 0),
            "notes": by_id.get(source.pk, {}).get("notes", 0),
            "tags": [tag.name for tag in source.tags.all()],
        }
        for source in sources
    ]


@admin.action(description=_("Merge into…"), permissions=["change"])
def merge_into(model_admin, request: HttpRequest, queryset: QuerySet):
    """Ask for the target, show what moves from each selected conversation, merge on confirmation."""
    form = MergeForm(request.POST if "into" in request.POST else None)
    sources = list(queryset.select_related("contact").prefetch_related("tags")[:100])
    target = None
    if form.is_bound and form.is_valid():
        target = Conversation.objects.filter(pk=form.cleaned_data["into"]).first()
        if target is None:
            form.add_error("into", "No conversation with that number.")
        elif "confirm" in request.POST:
            return _merge_all(model_admin, request, sources, target)
    return TemplateResponse(
        request,
        MERGE_TEMPLATE,
        {
            **model_admin.admin_site.each_context(request),
            "title": _("Merge conversations"),
            "opts": model_admin.model._meta,
            "form": form,
            "target": target,
            "moves": _what_moves([s for s in sources if s != target]),
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        },
    )


def _merge_all(model_admin, request, sources: list[Conversation], target: Conversation) -> None:
    merged, refused = [], []
    for source in sources:
        try:
            services.conversation_merge(source=source, target=target, actor=request.user)
            merged.append(f"#{source.pk}")
        except ValidationError as exc:
            refused.append(f"#{source.pk}: {' '.join(exc.messages)}")
    if merged:
        model_admin.message_user(
            request,
            _("Merged %(value0)s into #%(target_pk)s.") % {"value0": ", ".join(merged), "target_pk": target.pk},
            messages.SUCCESS,
        )
    if refused:
        model_admin.message_user(
            request, gettext("Not merged: %(reasons)s") % {"reasons": "; ".join(refused)}, messages.ERROR
        )


def admin_urls(model_admin) -> list:
    """The conversation admin's extra pages: save a view, snooze, link, the live poll."""
    wrap = model_admin.admin_site.admin_view

    def bind(view):
        return wrap(require_POST(lambda request, *args, **kwargs: view(model_admin, request, *args, **kwargs)))

    return [
        path("save-view/", bind(save_view), name="conversations_conversation_save_view"),
        path("<path:object_id>/snooze/", bind(snooze_view), name="conversations_conversation_snooze"),
        path("<path:object_id>/link/", bind(link_view), name="conversations_conversation_link"),
        path("<path:object_id>/live/", bind(live_view), name="conversations_conversation_live"),
    ]


# Notifications --------------------------------------------------------------------------------------------------------


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Each agent's own notifications (mentions), unread first; opening one's conversation is a click away."""

    list_display = ["text", "conversation_link", "created_at", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    actions = ["mark_read"]
    list_select_related = ["conversation"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user=request.user)

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff and (obj is None or obj.user_id == request.user.pk)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("Conversation"))
    def conversation_link(self, notification: Notification) -> str:
        if notification.conversation_id is None:
            return "–"
        url = reverse("admin:conversations_conversation_change", args=[notification.conversation_id])
        return format_html(
            '<a href="{}?{}">#{} {}</a>',
            url,
            urlencode({"read": notification.pk}),
            notification.conversation_id,
            notification.conversation.subject,
        )

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset) -> None:
        count = services.notifications_mark_read(user=request.user, ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("Marked %(count)s as read.") % {"count": count}, messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        unread = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
        return super().changelist_view(
            request, {**(extra_context or {}), "title": _("Notifications (%(unread)s unread)") % {"unread": unread}}
        )

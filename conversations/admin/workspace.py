"""The agent's workspace on the conversation admin: the thread, the reply and note buttons, "Assign to me", the
status buttons, the quick list views, and the hooks other apps use to add to them.

Every button is a plain CSRF-protected form POST to `<id>/work/`, which calls one service and redirects back to the
page (no Save needed). Conversations never imports sla or workflows (import-linter layers), so the SLA badges, the
SLA column, the Breached / Due soon views and the macro buttons come in through the registries below, filled by
`sla.admin_workspace` and `workflows.admin.macros` when their admin modules load (as `sla.admin` already adds its
targets inline to this admin).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.choices import SenderType, Status
from conversations.models import Conversation, Message

# Statuses an agent sets with one click on the conversation page (closing goes through a final disposition).
STATUS_BUTTONS = (Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.RESOLVED)


# Extension registries ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuickView:
    """A named slice of the conversation list, shown as a link above it and as a filter (`?view=<key>`)."""

    key: str
    label: str
    apply: Callable[[HttpRequest, QuerySet], QuerySet]


@dataclass(frozen=True)
class Panel:
    """A piece of the conversation page another app renders: `bar` (under the title) or `side` (by the thread)."""

    slot: str
    render: Callable[[HttpRequest, Conversation], str]


QUICK_VIEWS: list[QuickView] = []
PANELS: list[Panel] = []
# Bulk actions of the conversation list that other apps add (workflows' "Apply macro…"): admin action functions.
LIST_ACTIONS: list[Callable] = []
# Relations the list's extra columns read, prefetched once per page so the query count stays constant.
LIST_PREFETCH: list[str] = ["tags"]


def register_quick_view(view: QuickView) -> None:
    """Add a list view (once per key: a module imported twice must not add it twice)."""
    if all(existing.key != view.key for existing in QUICK_VIEWS):
        QUICK_VIEWS.append(view)


def register_panel(panel: Panel) -> None:
    if panel not in PANELS:
        PANELS.append(panel)


def register_list_action(action: Callable) -> None:
    """Add a bulk action to the conversation list (once per function name)."""
    if all(existing.__name__ != action.__name__ for existing in LIST_ACTIONS):
        LIST_ACTIONS.append(action)


def register_list_prefetch(lookup: str) -> None:
    if lookup not in LIST_PREFETCH:
        LIST_PREFETCH.append(lookup)


def rendered_panels(request: HttpRequest, conversation: Conversation) -> dict[str, list[SafeString]]:
    """The registered panels' HTML by slot; a panel with nothing to show returns ""."""
    slots: dict[str, list[SafeString]] = {"bar": [], "side": []}
    for panel in PANELS:
        html = panel.render(request, conversation)
        if html:
            slots[panel.slot].append(SafeString(html))
    return slots


# A snoozed conversation leaves Mine until it wakes (docs/agent_day.md); it waits under Snoozed meanwhile.
register_quick_view(
    QuickView("mine", _("Mine"), lambda request, qs: qs.filter(assignee=request.user, snoozed_until__isnull=True))
)
register_quick_view(QuickView("unassigned", _("Unassigned"), lambda request, qs: qs.filter(assignee__isnull=True)))
register_quick_view(QuickView("snoozed", _("Snoozed"), lambda request, qs: qs.filter(snoozed_until__isnull=False)))


class QuickViewFilter(admin.SimpleListFilter):
    """The quick views as a list filter, so they combine with the others and show in the filter sidebar."""

    title = _("view")
    parameter_name = "view"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [(view.key, view.label) for view in QUICK_VIEWS]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        view = next((view for view in QUICK_VIEWS if view.key == self.value()), None)
        return view.apply(request, queryset) if view else queryset


def quick_links(request: HttpRequest) -> list[dict[str, Any]]:
    """The links above the list: All, then every quick view; the one in the query string is marked current."""
    current = request.GET.get(QuickViewFilter.parameter_name, "")
    links = [{"label": _("All"), "url": "?", "current": not current}]
    return links + [
        {"label": view.label, "url": f"?view={view.key}", "current": view.key == current} for view in QUICK_VIEWS
    ]


# The thread and the buttons -----------------------------------------------------------------------------------------


def thread(conversation: Conversation) -> list[Message]:
    """The conversation's messages, oldest first, with their authors, mail headers and deliveries (one query) and
    their files (one more)."""
    messages = list(
        conversation.messages.select_related("author", "email", "delivery")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    for message in messages:
        message.mail, message.sending = _reverse_one(message, "email"), _reverse_one(message, "delivery")
    return messages


def _reverse_one(message: Message, name: str) -> Any:
    try:
        return getattr(message, name)
    except ObjectDoesNotExist:
        return None


def message_kind(message: Message) -> str:
    """The CSS kind a message is shown as: an internal note stands apart from whoever wrote it."""
    return "note" if message.internal else message.sender_type


class WorkForm(forms.Form):
    """One POST from the workspace: which button, and the text or status it carries."""

    action = forms.ChoiceField(
        choices=[
            ("reply", "Reply"),
            ("note", "Add internal note"),
            ("assign_to_me", "Assign to me"),
            ("status", "Set status"),
            ("retry_delivery", "Retry sending"),
        ],
        label=_("Action"),
    )
    body = forms.CharField(required=False, max_length=services.MAX_BODY_LENGTH, strip=True, label=_("Body"))
    status = forms.ChoiceField(required=False, choices=Status.choices, label=_("Status"))
    message = forms.IntegerField(required=False, min_value=1, label=_("Message"))

    def __init__(self, data=None, files=None, **kwargs):
        super().__init__(data, files, **kwargs)
        self.uploads = files.getlist("files") if files is not None else []


def _post(conversation: Conversation, data: dict, user, *, internal: bool) -> str:
    message = services.message_create(
        conversation=conversation,
        body=data["body"],
        sender_type=SenderType.AGENT,
        author=user,
        internal=internal,
        files=data.get("files"),
    )
    if internal:
        return gettext("Internal note added.")
    return gettext("Reply queued for sending.") if _reverse_one(message, "delivery") else gettext("Reply sent.")


def _retry_delivery(conversation: Conversation, data: dict, user) -> str:
    message = conversation.messages.select_related("delivery").filter(pk=data.get("message")).first()
    delivery = _reverse_one(message, "delivery") if message else None
    if delivery is None:
        raise ValidationError({"message": _("That message has no delivery to retry.")})
    services.delivery_retry(delivery=delivery)
    return gettext("Sending again.")


def _assign_to_me(conversation: Conversation, data: dict, user) -> str:
    services.conversation_assign(conversation=conversation, assignee=user, actor=user)
    return gettext("Assigned to you.")


def _set_status(conversation: Conversation, data: dict, user) -> str:
    if not data.get("status"):
        raise ValidationError({"status": _("Choose a status.")})
    services.conversation_change_status(conversation=conversation, status=data["status"], actor=user)
    return gettext("Status set to %(status)s.") % {"status": Status(data["status"]).label}


WORK_ACTIONS: dict[str, Callable[[Conversation, dict, Any], str]] = {
    "reply": lambda conversation, data, user: _post(conversation, data, user, internal=False),
    "note": lambda conversation, data, user: _post(conversation, data, user, internal=True),
    "assign_to_me": _assign_to_me,
    "status": _set_status,
    "retry_delivery": _retry_delivery,
}


def perform_work(conversation: Conversation, form: WorkForm, user) -> str:
    """Run the button's service call; returns what to tell the agent. Raises ValidationError when refused."""
    if not form.is_valid():
        raise ValidationError([f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()])
    data = {**form.cleaned_data, "files": form.uploads}
    return WORK_ACTIONS[data["action"]](conversation, data, user)


def workspace_context(request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
    """What the conversation page's workspace template reads."""
    messages = thread(conversation)
    for message in messages:
        message.kind = message_kind(message)
    return {
        "thread": messages,
        "status_buttons": [(status.value, status.label) for status in STATUS_BUTTONS],
        "assigned_to_me": conversation.assignee_id == request.user.pk,
        "panels": rendered_panels(request, conversation),
    }

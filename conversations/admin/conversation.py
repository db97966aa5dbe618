"""The conversation admin: the list agents work from, the conversation page (the workspace), and the bulk actions.

Saving the change form calls the service of each field that changed, the workspace's buttons (reply, note, assign to
me, status; see `conversations.admin.workspace`) post to `<id>/work/`, and the bulk actions ("Assign to me", "Change status…", "Set priority…",
"Add tags…") call the services once per conversation and report what they did. Nothing here saves a domain row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from conversations import services
from conversations.admin import agent_day, workspace
from conversations.admin import fields as field_admin
from conversations.admin.base import ReadOnlyInline, ServiceErrorsAsMessages, adopt, split_tags, staff_users
from conversations.admin.routing import SkillsFormField
from conversations.choices import Priority, Status
from conversations.models import Conversation, Event, Message
from conversations.timefmt import when
from conversations.wording import event_sentence

ACTION_FORM_TEMPLATE = "admin/conversations/conversation/action_form.html"
MAX_LISTED_IN_ACTION_FORM = 20


# Conversations --------------------------------------------------------------------------------------------------


class ConversationForm(forms.ModelForm):
    """The change form; tags are typed as text so an agent can use a new tag without a trip to another page."""

    tags = forms.CharField(
        required=False, help_text=_("Comma-separated, e.g. billing, refund. New tags are created."), label=_("Tags")
    )
    required_skills = SkillsFormField(
        help_text=_("Skills an agent needs to take it from the queue, e.g. german."), label=_("Required skills")
    )

    class Meta:
        model = Conversation
        fields = ["contact", "channel", "subject", "status", "priority", "assignee", "team", "disposition"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["tags"] = ", ".join(tag.name for tag in self.instance.tags.all())
            self.initial["required_skills"] = self.instance.required_skills
        if "assignee" in self.fields:
            self.fields["assignee"].queryset = staff_users()

    def clean_tags(self) -> list[str]:
        return split_tags(self.cleaned_data.get("tags", ""))

    def clean_disposition(self) -> str:
        disposition = self.cleaned_data.get("disposition", "")
        if self.instance.pk and not disposition and self.initial.get("disposition"):
            raise forms.ValidationError(_("A disposition can be changed but not cleared."))
        return disposition


class EventInline(ReadOnlyInline, admin.TabularInline):
    """What happened to the conversation, in order: the same events that trigger workflows."""

    model = Event
    fk_name = "conversation"
    fields = ["occurred_at", "what_happened", "depth", "dispatched_at"]
    readonly_fields = fields
    classes = ["collapse"]
    verbose_name_plural = _("History (domain events)")

    @admin.display(description=_("What happened"))
    def what_happened(self, event: Event) -> str:
        """The event in words (its payload is on the event's own page, behind a JSON toggle)."""
        return event_sentence(event, on_conversation=False)


class StatusForm(forms.Form):
    # No default: a bulk status change is a decision, so the agent picks the status (an unchosen one is an error).
    status = forms.ChoiceField(choices=[("", "Choose a status…"), *Status.choices], label=_("Status"))


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices, label=_("Priority"))


class AddTagsForm(forms.Form):
    tags = forms.CharField(max_length=500, help_text=_("One tag, or several separated by commas."), label=_("Tags"))

    def clean_tags(self) -> list[str]:
        names = split_tags(self.cleaned_data["tags"])
        if not names:
            raise forms.ValidationError(_("Enter a tag."))
        return names


@admin.register(Conversation)
class ConversationAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = ConversationForm
    # Related values share a cell (subject with contact and channel, status with priority, assignee with team) so
    # every column, the SLA app's included, fits at 1440 pixels with the navigation sidebar and the filters open.
    list_display = [
        "id",
        "conversation_display",
        "status_display",
        "owner_display",
        "tag_list",
        "sentiment_display",
        "created_display",
    ]
    list_display_links = ["id", "conversation_display"]
    list_filter = [
        workspace.QuickViewFilter,
        agent_day.SavedViewFilter,
        "status",
        "priority",
        "channel",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        "team",
        "tags",
    ]
    search_fields = ["subject", "contact__name", "contact__email", "contact__phone"]
    search_help_text = _("Search subject, contact name, email or phone, and the text of messages.")
    list_select_related = ["contact", "assignee", "team"]
    autocomplete_fields = ["contact"]
    date_hierarchy = "created_at"
    inlines = [EventInline]  # the messages are the workspace's thread (templates/.../workspace.html)
    actions = ["assign_to_me", "change_status", "set_priority", "add_tags", agent_day.merge_into]
    list_per_page = 50
    timeline_fields = [
        "sentiment",
        "first_response_at",
        "last_customer_message_at",
        "last_agent_message_at",
        "resolved_at",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(*workspace.LIST_PREFETCH)

    def get_search_results(self, request, queryset, search_term):
        """Django's search over `search_fields`, or a message body containing the text (one EXISTS subquery, so a
        conversation never repeats and the list's query count does not change)."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        text = search_term.strip()
        if text:
            in_messages = Message.objects.filter(conversation=OuterRef("pk"), body__icontains=text)
            found = found | queryset.filter(Exists(in_messages))
        return found, may_have_duplicates

    # The workspace: the thread and buttons on the conversation page, quick views above the list -----------------

    def get_urls(self):
        work = path(
            "<path:object_id>/work/",
            self.admin_site.admin_view(require_POST(self.work_view)),
            name="conversations_conversation_work",
        )
        return [work, *agent_day.admin_urls(self), *super().get_urls()]

    def work_view(self, request, object_id: str) -> HttpResponseRedirect:
        """One workspace button (reply, note, assign to me, a status): call its service, then back to the page."""
        conversation = self.get_object(request, unquote(object_id))
        if conversation is None or not self.has_change_permission(request, conversation):
            raise PermissionDenied
        try:
            done = workspace.perform_work(conversation, workspace.WorkForm(request.POST, request.FILES), request.user)
            self.message_user(request, done, messages.SUCCESS)
        except ValidationError as exc:
            self.message_user(
                request, gettext("Not done: %(reasons)s") % {"reasons": " ".join(exc.messages)}, messages.ERROR
            )
        return HttpResponseRedirect(reverse("admin:conversations_conversation_change", args=[conversation.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        conversation = self.get_object(request, unquote(object_id))
        if conversation is not None:
            extra_context = {**(extra_context or {}), **workspace.workspace_context(request, conversation)}
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request,
            {
                **(extra_context or {}),
                "quick_links": workspace.quick_links(request),
                **agent_day.changelist_context(request),
            },
        )

    def get_actions(self, request):
        """The own actions plus those other apps register (e.g. workflows' "Apply macro…")."""
        actions = super().get_actions(request)
        for func in workspace.LIST_ACTIONS:
            actions[func.__name__] = self.get_action(func)
        return actions

    def get_fieldsets(self, request, obj=None):
        work = (
            _("Work"),
            {"fields": ["status", "priority", "assignee", "team", "tags", "disposition", "required_skills"]},
        )
        fields = [fieldset] if (fieldset := field_admin.fieldset(self._field_definitions(request))) else []
        if obj is None:
            return [(None, {"fields": ["contact", "channel", "subject"]}), work, *fields]
        return [
            (None, {"fields": ["contact", "channel", "subject"]}),
            work,
            *fields,
            (_("Timeline"), {"fields": self.timeline_fields, "classes": ["collapse"]}),
        ]

    def _field_definitions(self, request) -> list:
        return field_admin.definitions(request)

    def get_list_display(self, request):
        return [*super().get_list_display(request), *field_admin.list_columns(self._field_definitions(request))]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = field_admin.form_with_fields(self.form, self._field_definitions(request))
        form = super().get_form(request, obj, change=change, **kwargs)
        for name in ("assignee", "team"):  # edit/add/delete teams from here would be a detour for an agent
            widget = form.base_fields[name].widget
            widget.can_add_related = widget.can_change_related = widget.can_delete_related = False
            widget.can_view_related = False
        return form

    def get_readonly_fields(self, request, obj=None):
        # Contact, channel and subject are set when the conversation opens; no service edits them afterwards.
        return ["contact", "channel", "subject", *self.timeline_fields] if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # conversations are closed, not deleted: their events and runs are the audit trail

    @admin.display(description=_("Conversation"), ordering="subject")
    def conversation_display(self, conversation: Conversation) -> str:
        return format_html(
            '{}<br><span class="ws-who">{} · {}</span>',
            conversation.subject or "(no subject)",
            conversation.contact,
            conversation.get_channel_display(),
        )

    @admin.display(description=_("Status"), ordering="status")
    def status_display(self, conversation: Conversation) -> str:
        if conversation.snoozed_until:  # the snooze badge of the list (docs/agent_day.md)
            return format_html(
                '{}<br><span class="ws-who ws-snoozed-cell">{}</span>',
                conversation.get_status_display(),
                gettext("snoozed until %(time)s") % {"time": when(conversation.snoozed_until)},
            )
        return format_html(
            '{}<br><span class="ws-who">{}</span>',
            conversation.get_status_display(),
            gettext("%(priority)s priority") % {"priority": conversation.get_priority_display()},
        )

    @admin.display(description=_("Assignee"), ordering="assignee__username")
    def owner_display(self, conversation: Conversation) -> str:
        assignee = conversation.assignee.get_username() if conversation.assignee_id else _("Unassigned")
        team = conversation.team.name if conversation.team_id else _("no team")
        return format_html('{}<br><span class="ws-who">{}</span>', assignee, team)

    @admin.display(description=_("Tags"))
    def tag_list(self, conversation: Conversation) -> str:
        return ", ".join(tag.name for tag in conversation.tags.all())

    @admin.display(description=_("Created"), ordering="created_at")
    def created_display(self, conversation: Conversation) -> str:
        return when(conversation.created_at)

    @admin.display(description=_("Sentiment"), ordering="sentiment")
    def sentiment_display(self, conversation: Conversation) -> str:
        return "–" if conversation.sentiment is None else number_format(conversation.sentiment, 2)

    # Saving the change form through the services ----------------------------------------------------------------

    def save_model(self, request, obj: Conversation, form: ConversationForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            opened = services.conversation_open(
                contact=data["contact"],
                channel=data["channel"],
                subject=data.get("subject", ""),
                priority=data["priority"],
                team=data.get("team"),
            )
            adopt(obj, opened)
        self._apply_work_fields(request, obj, form)

    def _apply_work_fields(self, request, conversation: Conversation, form: ConversationForm) -> None:
        """Call the service of each work field that changed; each records its own event."""
        data, changed, actor = form.cleaned_data, set(form.changed_data), request.user
        values = field_admin.changed_values(form)
        if values:  # before the status: a value given with "resolved" counts for the resolve check
            services.conversation_set_fields(conversation=conversation, fields=values, actor=actor)
        if changed & {"assignee", "team"}:
            services.conversation_assign(
                conversation=conversation, assignee=data.get("assignee"), team=data.get("team"), actor=actor
            )
        if "required_skills" in changed:
            services.conversation_set_required_skills(conversation=conversation, skills=data["required_skills"])
        if "priority" in changed:
            services.conversation_set_priority(conversation=conversation, priority=data["priority"])
        if "status" in changed:
            services.conversation_change_status(conversation=conversation, status=data["status"], actor=actor)
        if "disposition" in changed and data.get("disposition"):
            services.conversation_set_disposition(
                conversation=conversation, disposition=data["disposition"], actor=actor
            )

    def save_related(self, request, form: ConversationForm, formsets, change: bool) -> None:
        if "tags" in form.changed_data:
            services.conversation_set_tags(conversation=form.instance, tags=form.cleaned_data["tags"])
        for formset in formsets:
            # Inlines are never saved directly; the lists below are what the admin's change message reads.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # Bulk actions -------------------------------------------------------------------------------------------------

    def _apply_to_each(
        self, request, queryset: QuerySet, change: Callable[[Conversation], Any], done: Callable[[int], str]
    ) -> None:
        """Run one service call per conversation (each its own transaction) and report successes and refusals."""
        changed, refused = 0, []
        for conversation in queryset.select_related("contact"):
            try:
                change(conversation)
                changed += 1
            except ValidationError as exc:
                refused.append(f"#{conversation.pk}: {' '.join(exc.messages)}")
        if changed:
            self.message_user(request, done(changed), messages.SUCCESS)
        if refused:
            self.message_user(
                request, gettext("Not changed: %(reasons)s") % {"reasons": "; ".join(refused)}, messages.ERROR
            )

    def _with_form(self, request, queryset, form_class: type[forms.Form], title: str, apply: Callable) -> Any:
        """The intermediate page of an action: ask for a value, then apply it to the selected conversations."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            apply(form.cleaned_data)
            return None
        return self.action_form_page(request, queryset, form, title)

    def action_form_page(self, request, queryset, form: forms.Form, title: str) -> TemplateResponse:
        """The intermediate page of a bulk action with `form` (also used by other apps' list actions)."""
        listed, count = list(queryset[:MAX_LISTED_IN_ACTION_FORM]), queryset.count()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "conversations": listed,
            "count": count,
            "more": count - len(listed),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, ACTION_FORM_TEMPLATE, context)

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset) -> None:
        self._apply_to_each(
            request,
            queryset,
            lambda c: services.conversation_assign(conversation=c, assignee=request.user, actor=request.user),
            lambda count: (
                ngettext("Assigned %(count)s conversation to you.", "Assigned %(count)s conversations to you.", count)
                % {"count": count}
            ),
        )

    @admin.action(description=_("Change status…"), permissions=["change"])
    def change_status(self, request, queryset):
        def apply(data):
            label = Status(data["status"]).label
            self._apply_to_each(
                request,
                queryset,
                lambda c: services.conversation_change_status(
                    conversation=c, status=data["status"], actor=request.user
                ),
                lambda count: (
                    ngettext(
                        "Set the status of %(count)s conversation to %(label)s.",
                        "Set the status of %(count)s conversations to %(label)s.",
                        count,
                    )
                    % {"count": count, "label": label}
                ),
            )

        return self._with_form(request, queryset, StatusForm, _("Change the status of conversations"), apply)

    @admin.action(description=_("Set priority…"), permissions=["change"])
    def set_priority(self, request, queryset):
        def apply(data):
            label = Priority(data["priority"]).label
            self._apply_to_each(
                request,
                queryset,
                lambda c: services.conversation_set_priority(conversation=c, priority=data["priority"]),
                lambda count: (
                    ngettext(
                        "Set the priority of %(count)s conversation to %(label)s.",
                        "Set the priority of %(count)s conversations to %(label)s.",
                        count,
                    )
                    % {"count": count, "label": label}
                ),
            )

        return self._with_form(request, queryset, PriorityForm, _("Set the priority of conversations"), apply)

    @admin.action(description=_("Add tags…"), permissions=["change"])
    def add_tags(self, request, queryset):
        def apply(data):
            names = ", ".join(data["tags"])
            self._apply_to_each(
                request,
                queryset,
                lambda c: services.conversation_add_tags(conversation=c, tags=data["tags"]),
                lambda count: (
                    ngettext(
                        "Tagged %(count)s conversation with %(names)s.",
                        "Tagged %(count)s conversations with %(names)s.",
                        count,
                    )
                    % {"count": count, "names": names}
                ),
            )

        return self._with_form(request, queryset, AddTagsForm, _("Add tags to conversations"), apply)

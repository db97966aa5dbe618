"""Admins of what conversations produce: tickets, surveys, recordings and the domain event log (read-only)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.admin.base import ReadOnlyAdmin, ReadOnlyInline, adopt
from conversations.models import Event, Recording, Survey, Ticket, Transcript
from conversations.timefmt import when
from conversations.wording import EVENT_LABELS, event_sentence


class TicketForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = ["conversation", "title", "description", "priority"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Tickets are opened by the `create_ticket` step or here (through `services.ticket_create`); then read-only."""

    form = TicketForm
    list_display = ["title", "conversation", "priority", "status", "created_at"]
    list_filter = ["status", "priority"]
    search_fields = ["title", "conversation__subject"]
    list_select_related = ["conversation"]
    autocomplete_fields = ["conversation"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: Ticket, form, change: bool) -> None:
        data = form.cleaned_data
        adopt(
            obj,
            services.ticket_create(
                conversation=data["conversation"],
                title=data["title"],
                description=data.get("description", ""),
                priority=data["priority"],
            ),
        )


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["token_short", "conversation", "contact", "via", "score", "sent_at", "answered_at"]
    list_filter = ["via", "score"]
    search_fields = ["contact__name", "contact__email", "token"]
    list_select_related = ["conversation", "contact"]

    @admin.display(description=_("Token"))
    def token_short(self, survey: Survey) -> str:
        return survey.token[:8]


class TranscriptInline(ReadOnlyInline, admin.StackedInline):
    model = Transcript
    fields = ["language", "backend", "text", "created_at"]
    readonly_fields = fields


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin):
    list_display = ["id", "conversation", "content_type", "size_bytes", "created_at"]
    list_select_related = ["conversation"]
    search_fields = ["conversation__subject"]
    inlines = [TranscriptInline]


class EventTypeFilter(admin.SimpleListFilter):
    """Filter by event, named in words (the type column has no choices of its own)."""

    title = _("event")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(str(value), text) for value, text in EVENT_LABELS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The domain event log: what happened, when, at which depth, and whether the dispatcher has handled it."""

    list_display = ["occurred_display", "type_label", "conversation", "contact", "depth", "dispatched_at"]
    list_filter = [EventTypeFilter, "depth", ("dispatched_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "occurred_at"
    search_fields = ["=conversation__id", "contact__name", "contact__email"]
    search_help_text = _("Search by conversation id (exact) or contact name/email.")
    list_select_related = ["conversation", "contact"]
    fields = [
        "summary",
        "type",
        "occurred_at",
        "conversation",
        "contact",
        "depth",
        "payload_pretty",
        "dispatched_at",
        "dispatch_note",
        "id",
    ]
    readonly_fields = fields
    ordering = ["-occurred_at"]

    @admin.display(description=_("Occurred at"), ordering="occurred_at")
    def occurred_display(self, event: Event) -> str:
        return when(event.occurred_at)

    @admin.display(description=_("Event"), ordering="type")
    def type_label(self, event: Event) -> str:
        return EVENT_LABELS.get(event.type, event.type)

    @admin.display(description=_("What happened"))
    def summary(self, event: Event) -> str:
        return event_sentence(event)

    @admin.display(description=_("Payload"))
    def payload_pretty(self, event: Event) -> str:
        """The raw payload behind a "JSON" toggle (the sentence above says it in words)."""
        return format_html(
            "<details><summary>JSON</summary><pre>{}</pre></details>",
            json.dumps(event.payload, indent=2, sort_keys=True),
        )

"""Conversation fields in admin (docs/managers.md): the definitions (managers), and the pieces the conversation admin
uses to show and edit values — one form field per definition, the resolve check as a form error on the field, and one
list column per definition. Every write goes through `conversations.services` (`conversation_field_*`,
`conversation_set_fields`), so admin records the same events and refuses the same changes as the API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.admin import workspace
from conversations.admin.base import ManagersWriteMixin, ServiceErrorsAsMessages
from conversations.choices import FieldType, Status
from conversations.models import Conversation, ConversationField
from conversations.services import fields as field_services

PREFIX = "field__"
MAX_LIST_COLUMNS = 6  # the list stays readable at 1440 pixels; more fields are still on each conversation's page


# Definitions ------------------------------------------------------------------------------------------------


class ConversationFieldForm(forms.ModelForm):
    """A definition; select options are typed one per line (or comma-separated)."""

    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Select fields: the allowed values, one per line."),
        label=_("Options"),
    )

    class Meta:
        model = ConversationField
        fields = ["key", "label", "type", "options", "required_on_resolve", "position"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial["options"] = "\n".join(self.instance.options or [])
        if self.instance.pk:
            self.fields["key"].disabled = True  # values and workflows name the key

    def clean_options(self) -> list[str]:
        text = self.cleaned_data.get("options") or ""
        return list(
            dict.fromkeys(part.strip() for line in text.splitlines() for part in line.split(",") if part.strip())
        )

    def _post_clean(self) -> None:
        """The services' checks (key pattern, options of a select, a type a workflow relies on) as form errors."""
        super()._post_clean()
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}
        try:
            if self.instance.pk:
                saved = ConversationField.objects.get(pk=self.instance.pk)
                if data.get("type") not in (None, saved.type):
                    field_services.refuse_when_used(saved.key, "type", "change the type of")
                data["key"] = saved.key
            field_services.check_definition(ConversationField(**{**data, "key": data.get("key", "")}))
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)


@admin.register(ConversationField)
class ConversationFieldAdmin(ManagersWriteMixin, ServiceErrorsAsMessages, admin.ModelAdmin):
    form = ConversationFieldForm
    list_display = ["label", "key", "type", "options_display", "required_on_resolve", "position"]
    list_editable = ["position"]
    list_display_links = ["label"]
    search_fields = ["key", "label"]
    actions: list = []  # no bulk delete: each delete is checked against the workflows that use the field

    @admin.display(description=_("Options"))
    def options_display(self, field: ConversationField) -> str:
        return ", ".join(field.options or []) or "—"

    def save_model(self, request, obj: ConversationField, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.Meta.fields if name in form.cleaned_data}
        if change:
            data.pop("key", None)
            services.conversation_field_update(field=ConversationField.objects.get(pk=obj.pk), **data)
        else:
            saved = services.conversation_field_create(**data)
            obj.pk, obj.id, obj.created_at = saved.pk, saved.pk, saved.created_at
            obj._state.adding = False

    def delete_model(self, request, obj: ConversationField) -> None:
        services.conversation_field_delete(field=obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            self.message_user(
                request, gettext("Not deleted: %(reasons)s") % {"reasons": " ".join(exc.messages)}, messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path().rsplit("delete/", 1)[0])


# Values on the conversation page ----------------------------------------------------------------------------


def definitions(request: HttpRequest | None = None) -> list[ConversationField]:
    """The field definitions by position; read once per request (form, fieldsets, list columns and panel)."""
    if request is None:
        return list(ConversationField.objects.order_by("position", "id"))
    if not hasattr(request, "_conversation_fields"):
        request._conversation_fields = definitions()
    return request._conversation_fields


def _form_field(definition: ConversationField) -> forms.Field:
    """The form field that edits one definition's value."""
    common = {
        "required": False,
        "label": definition.label,
        "help_text": "Required before resolving." if definition.required_on_resolve else "",
    }
    if definition.type == FieldType.NUMBER:
        return forms.DecimalField(**common)
    if definition.type == FieldType.DATE:
        return forms.DateField(widget=AdminDateWidget, **common)
    if definition.type == FieldType.SELECT:
        return forms.ChoiceField(choices=[("", "—"), *((option, option) for option in definition.options)], **common)
    if definition.type == FieldType.CHECKBOX:
        return forms.BooleanField(**common)
    return forms.CharField(max_length=field_services.MAX_TEXT_LENGTH, **common)


def _stored(value: Any) -> Any:
    """A form value as the service takes it: a whole decimal as an int, a date as YYYY-MM-DD."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (bool, int)):
        return int(value) if value == int(value) else float(value)
    return value


def form_with_fields(base: type[forms.ModelForm], fields: list[ConversationField]) -> type[forms.ModelForm]:
    """The conversation form with one `field__<key>` input per definition, filled from the conversation's values;
    resolving while a required field is empty is an error on that field."""
    declared = {f"{PREFIX}{definition.key}": _form_field(definition) for definition in fields}
    required = [definition.key for definition in fields if definition.required_on_resolve]

    def __init__(self, *args, **kwargs) -> None:
        base.__init__(self, *args, **kwargs)
        for key, value in (self.instance.fields or {}).items():
            self.initial.setdefault(f"{PREFIX}{key}", value)

    def clean(self) -> dict:
        cleaned = base.clean(self)
        resolving = cleaned.get("status") in (Status.RESOLVED, Status.CLOSED) and "status" in self.changed_data
        if resolving and self.instance.status not in (Status.RESOLVED, Status.CLOSED):
            for key in required:
                if cleaned.get(f"{PREFIX}{key}") in (None, ""):
                    self.add_error(f"{PREFIX}{key}", "Required before the conversation is resolved.")
        return cleaned

    return type(f"{base.__name__}WithFields", (base,), {**declared, "__init__": __init__, "clean": clean})


def changed_values(form: forms.Form) -> dict[str, Any]:
    """The field values the form changed, keyed by field key (None clears)."""
    values = {}
    for name in form.changed_data:
        if name.startswith(PREFIX):
            value = form.cleaned_data.get(name)
            values[name[len(PREFIX) :]] = None if value in (None, "") else _stored(value)
    return values


def fieldset(fields: list[ConversationField]) -> tuple[str, dict] | None:
    if not fields:
        return None
    return (_("Fields"), {"fields": [f"{PREFIX}{definition.key}" for definition in fields]})


def list_columns(fields: list[ConversationField]) -> list[Callable[[Conversation], str]]:
    """One list column per definition (the first MAX_LIST_COLUMNS by position), showing the value or a dash."""

    def column(definition: ConversationField) -> Callable[[Conversation], str]:
        @admin.display(description=definition.label)
        def value(conversation: Conversation) -> str:
            return shown_value(conversation, definition)

        value.__name__ = f"{PREFIX}{definition.key}"
        return value

    return [column(definition) for definition in fields[:MAX_LIST_COLUMNS]]


def shown_value(conversation: Conversation, definition: ConversationField) -> str:
    value = (conversation.fields or {}).get(definition.key)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    return "—" if value in (None, "") else str(value)


def fields_panel(request: HttpRequest, conversation: Conversation) -> str:
    """The workspace's Fields panel: each field's value at a glance (edited in the form's Fields section; a
    required-on-resolve field left empty is marked)."""
    fields = definitions(request)
    if not fields:
        return ""
    rows = format_html_join(
        "",
        "<dt>{}{}</dt><dd>{}</dd>",
        (
            (definition.label, " *" if definition.required_on_resolve else "", shown_value(conversation, definition))
            for definition in fields
        ),
    )
    return format_html(
        '<div class="module ws-fields"><h2>{}</h2><dl class="ws-box">{}</dl><p class="help">{}</p></div>',
        _("Fields"),
        rows,
        _("* required before resolving; edit in “Fields” below."),
    )


workspace.register_panel(workspace.Panel("side", fields_panel))

"""Query-string filters of the conversations API (docs/api.md), declared as django-filter FilterSets.

Filters that take several values accept both repeated keys and comma lists (`?status=open&status=pending` or
`?status=open,pending`). A value outside a choice list is a 400 naming the filter. Other apps add their own
filters without this app importing them (dependencies point one way), e.g. the SLA app:
`ConversationFilter.add_filter("sla_breached", django_filters.BooleanFilter(method=sla_breached_filter))`.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions

from conversations.choices import Channel, Priority, Status
from conversations.models import Contact, Conversation, ConversationField, Message, Ticket
from conversations.services.fields import clean_field_value

MAX_VALUES = 100
UNASSIGNED = "none"


class ListWidget(forms.TextInput):
    """Read every value of a key, splitting comma lists: `?a=1,2&a=3` gives ["1", "2", "3"]."""

    def value_from_datadict(self, data, files, name):
        raw = data.getlist(name) if isinstance(data, MultiValueDict) else [data.get(name)]
        values = [part.strip() for item in raw if isinstance(item, str) for part in item.split(",")]
        return [value for value in dict.fromkeys(values) if value] or None


class ChoiceListField(forms.MultipleChoiceField):
    widget = ListWidget


class TextListField(forms.Field):
    """A list of short texts (ids or names), at most MAX_VALUES of them."""

    widget = ListWidget

    def to_python(self, value):
        values = list(value or [])
        if len(values) > MAX_VALUES:
            raise forms.ValidationError(_("Give at most %(MAX_VALUES)s values.") % {"MAX_VALUES": MAX_VALUES})
        if any(len(item) > 200 for item in values):
            raise forms.ValidationError(_("A value has at most 200 characters."))
        if any("\x00" in item for item in values):
            raise forms.ValidationError(_("Null characters are not allowed."))
        return values


class IdListField(TextListField):
    """A list of database ids; anything but whole numbers is a 400."""

    def to_python(self, value):
        values = super().to_python(value)
        if not all(item.isdigit() and len(item) <= 18 for item in values):
            raise forms.ValidationError(_("Give ids as whole numbers."))
        return [int(item) for item in values]


class ChoiceListFilter(django_filters.MultipleChoiceFilter):
    """Any of several choice values, as one `IN` lookup."""

    field_class = ChoiceListField

    def filter(self, qs: QuerySet, value: list[str]) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


@extend_schema_field({"type": "array", "items": {"type": "integer"}})
class IdListFilter(django_filters.Filter):
    """Any of several ids of a foreign key."""

    field_class = IdListField

    def filter(self, qs: QuerySet, value: list[int]) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}_id__in": value})


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class ReferenceListFilter(django_filters.Filter):
    """Any of several related rows named by id or by name; `none` matches rows without one."""

    field_class = TextListField

    def __init__(self, *args, name_fields: tuple[str, ...], **kwargs) -> None:
        self.name_fields = name_fields
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: list[str]) -> QuerySet:
        if not value:
            return qs
        condition = Q(pk__in=[])
        ids = [int(item) for item in value if item.isdigit() and len(item) <= 18]
        names = [item for item in value if not item.isdigit()]
        if ids:
            condition |= Q(**{f"{self.field_name}_id__in": ids})
        for name_field in self.name_fields:
            if names:
                condition |= Q(**{f"{self.field_name}__{name_field}__in": names})
        if UNASSIGNED in value:
            condition |= Q(**{f"{self.field_name}__isnull": True})
        return qs.filter(condition)


def search_conversations(queryset: QuerySet, name: str, value: str) -> QuerySet:
    """Subject, contact name or email, or any message body contains the text (a correlated EXISTS: no duplicates,
    and it stops at the first matching message of each conversation)."""
    text = (value or "").strip()
    if not text:
        return queryset
    in_messages = Exists(Message.objects.filter(conversation=OuterRef("pk"), body__icontains=text))
    return queryset.filter(
        Q(subject__icontains=text) | Q(contact__name__icontains=text) | Q(contact__email__icontains=text) | in_messages
    )


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class TagListFilter(django_filters.Filter):
    """Conversations carrying any of the named tags, through a subquery so a row never repeats."""

    field_class = TextListField

    def filter(self, qs: QuerySet, value: list[str]) -> QuerySet:
        if not value:
            return qs
        tagged = Conversation.tags.through.objects.filter(tag__name__in=value).values("conversation_id")
        return qs.filter(pk__in=tagged)


class ConversationFilter(django_filters.FilterSet):
    """Every conversation filter of docs/api.md except `sla_breached`, which the SLA app adds with `add_filter`."""

    status = ChoiceListFilter(choices=Status.choices, help_text=_("One or more statuses."))
    channel = ChoiceListFilter(choices=Channel.choices, help_text=_("One or more channels."))
    priority = ChoiceListFilter(choices=Priority.choices, help_text=_("One or more priorities."))
    assignee = ReferenceListFilter(
        field_name="assignee", name_fields=("username",), help_text=_("Agent ids or usernames; `none` for unassigned.")
    )
    team = ReferenceListFilter(
        field_name="team", name_fields=("name",), help_text=_("Team ids or names; `none` for no team.")
    )
    tag = TagListFilter(help_text=_("One or more tag names (any of them)."))
    contact = IdListFilter(field_name="contact", help_text=_("One or more contact ids."))
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text=_("ISO 8601; created at or after.")
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text=_("ISO 8601; created before.")
    )
    search = django_filters.CharFilter(
        method=search_conversations,
        max_length=200,
        help_text=_("Text in the subject, contact name/email or a message body."),
    )
    snoozed = django_filters.BooleanFilter(
        field_name="snoozed_until",
        lookup_expr="isnull",
        exclude=True,
        help_text=_("true: snoozed conversations; false: the others."),
    )

    class Meta:
        model = Conversation
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """The declared filters, then `?field.<key>=<value>` for each conversation field named (docs/managers.md)."""
        return filter_by_fields(super().filter_queryset(queryset), self.data)

    @classmethod
    def add_filter(cls, name: str, filter_: django_filters.Filter) -> None:
        """Add a filter from another app (e.g. `sla_breached`); give it a callable `method` or a `field_name`."""
        cls.base_filters[name] = filter_


FIELD_PREFIX = "field."


def filter_by_fields(queryset: QuerySet, data) -> QuerySet:
    """Conversations whose field `<key>` holds one of the given values (a comma list: any of them), each value read
    as the field's type; an unknown key or a value of the wrong type is a 400 naming `field.<key>`."""
    keys = [name for name in data if isinstance(name, str) and name.startswith(FIELD_PREFIX)]
    if not keys:
        return queryset
    definitions = {
        field.key: field
        for field in ConversationField.objects.filter(key__in=[name[len(FIELD_PREFIX) :] for name in keys])
    }
    errors: dict[str, str] = {}
    for name in keys:
        definition = definitions.get(name[len(FIELD_PREFIX) :])
        if definition is None:
            errors[name] = "Unknown conversation field."
            continue
        try:
            values = [
                clean_field_value(definition, value)
                for value in ListWidget().value_from_datadict(data, None, name) or []
            ]
        except DjangoValidationError as exc:
            errors[name] = exc.messages[0]
            continue
        if values:
            queryset = queryset.filter(**{f"fields__{definition.key}__in": values})
    if errors:
        raise exceptions.ValidationError(errors)
    return queryset


class ContactFilter(django_filters.FilterSet):
    """Find contacts by email, segment or a text in name/email."""

    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact", max_length=254)
    segment = django_filters.CharFilter(field_name="segment", max_length=100)
    search = django_filters.CharFilter(method="filter_search", max_length=200, help_text=_("Text in name or email."))

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))


class TicketFilter(django_filters.FilterSet):
    """Tickets of one or more conversations."""

    conversation = IdListFilter(field_name="conversation", help_text=_("One or more conversation ids."))

    class Meta:
        model = Ticket
        fields: list[str] = []

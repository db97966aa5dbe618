"""What the SLA app adds to the conversations API through its extension hooks (conversations never imports sla):
the `sla_breached` filter of docs/api.md and the `sla` list of targets a conversation reads back with (docs/api.md)."""

from __future__ import annotations

from collections import defaultdict

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations.api.filters import ConversationFilter
from conversations.api.serializers import ConversationSerializer
from conversations.models import Conversation
from sla.api.serializers import SlaTargetSerializer
from sla.models import SlaTarget
from sla.selectors import breached_conversation_ids_q, latest_targets, targets_for


def sla_breached_filter(queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
    """`?sla_breached=true`: conversations with a breached SLA target; `false`: those without one."""
    if value is None:
        return queryset
    return queryset.filter(breached_conversation_ids_q(value))


@extend_schema_field(SlaTargetSerializer(many=True))
class ConversationTargetsField(serializers.Field):
    """The conversation's current target per metric; reads the prefetched `sla_targets` (no query per row)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, conversation: Conversation) -> list:
        targets = targets_for(conversation)
        if not targets:  # no policy applies (the common case): no serializer to build for an empty list
            return []
        return SlaTargetSerializer(targets, many=True).data


def sla_page_values(conversation_ids: list[int]) -> dict[int, list]:
    """The `sla` column of a list page read as rows: one query for the page's targets (with the calendars their
    time left is counted on), one serializer for all of them, the same lists `ConversationTargetsField` gives."""
    targets: dict[int, list[SlaTarget]] = defaultdict(list)
    for target in SlaTarget.objects.filter(conversation_id__in=conversation_ids).select_related(
        "policy__business_hours"
    ):
        targets[target.conversation_id].append(target)
    current = {conversation_id: latest_targets(rows) for conversation_id, rows in targets.items()}
    flat = [target for rows in current.values() for target in rows]
    data = iter(SlaTargetSerializer(flat, many=True).data)
    values: dict[int, list] = defaultdict(list)
    for conversation_id, rows in current.items():
        values[conversation_id] = [next(data) for _row in rows]
    return values


def extend_conversations_api() -> None:
    """Register the `sla_breached` filter and the `sla` field on the conversations API."""
    ConversationFilter.add_filter(
        "sla_breached",
        django_filters.BooleanFilter(
            method=sla_breached_filter, help_text=_("true: with a breached SLA target; false: without one.")
        ),
    )
    ConversationSerializer.add_field(
        "sla",
        ConversationTargetsField(help_text=_("SLA targets: metric, due_at, state, breached_at, time left.")),
        prefetch="sla_targets__policy__business_hours",  # time left is counted on the policy's calendar
        page_loader=sla_page_values,
    )

"""What the SLA app adds to the conversations API through its extension hooks (conversations never imports sla)."""
from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from sla.selectors import breached_conversation_ids_q


def sla_breached_filter(queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
    """`?sla_breached=true`: conversations with a breached SLA target; `false`: those without one."""
    if value is None:
        return queryset
    return queryset.filter(breached_conversation_ids_q(value))


def extend_conversations_api() -> None:
    """Register the `sla_breached` filter of SPEC §8 on the conversations FilterSet."""
    from conversations.api.filters import ConversationFilter

    ConversationFilter.add_filter(
        "sla_breached",
        django_filters.BooleanFilter(method=sla_breached_filter,
                                     help_text="true: with a breached SLA target; false: without one."),
    )

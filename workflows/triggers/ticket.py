"""Ticket triggers (docs/managers.md): a ticket was created for a conversation (by a `create_ticket` step)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from conversations.choices import EventType
from workflows.triggers.registry import TriggerType, schema, trigger_types

# No filters of its own: the optional `conditions` tree (every event trigger has it) narrows by conversation,
# contact or `event.title`.
trigger_types.register(
    TriggerType(EventType.TICKET_CREATED, _("Ticket created"), schema({})),
)

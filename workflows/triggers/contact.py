"""Contact triggers (docs/reference/triggers.md): a contact's attributes ("memory") changed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from conversations import payloads
from conversations.choices import EventType
from workflows.triggers.registry import STRING_LIST, TriggerType, one_of, schema, trigger_types

trigger_types.register(
    TriggerType(
        EventType.CONTACT_UPDATED,
        _("Contact updated"),
        schema({"attributes": STRING_LIST}),
        (
            one_of(
                "attributes",
                lambda event, data: payloads.payload_of(event, payloads.ContactUpdated).get("attributes") or [],
            ),
        ),
    ),
)

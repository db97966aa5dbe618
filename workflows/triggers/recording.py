"""Recording triggers (docs/reference/triggers.md): an audio recording was attached to a conversation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from conversations.choices import Channel, EventType
from workflows.triggers.registry import TriggerType, payload_one_of, schema, trigger_types

trigger_types.register(
    TriggerType(
        EventType.RECORDING_UPLOADED,
        _("Recording uploaded"),
        schema({"channels": {"type": "array", "items": {"enum": list(Channel.values)}}}),
        (payload_one_of("channels", "channel"),),
    ),
)

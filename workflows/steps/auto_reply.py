"""`auto_reply`: post a message from the system to the customer, optionally with buttons."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.choices import SenderType
from workflows.steps.languages import translations_schema
from workflows.steps.registry import StepContext, StepOutcome, StepType, step_types


@step_types.register
class AutoReplyStep(StepType):
    type = "auto_reply"
    label = _("Auto reply")
    internal = True
    schema = {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 20000},
            "translations": translations_schema("text"),
            "sender_type": {"enum": [SenderType.AI, SenderType.SYSTEM]},
            "buttons": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["label"],
                    "additionalProperties": False,
                    "properties": {"label": {"type": "string", "minLength": 1}, "url": {"type": "string"}},
                },
            },
        },
    }
    templated = ("text", "buttons", "translations")

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        rendered = self.render(config, ctx)
        # Applied by an agent (a macro), the reply is the agent's own canned answer; a workflow speaks as AI/system.
        sender_type = SenderType.AGENT if ctx.actor is not None else config.get("sender_type", SenderType.AI)
        message = services.message_create(
            conversation=ctx.require_conversation(),
            body=rendered["text"],
            sender_type=sender_type,
            author=ctx.actor,
            buttons=rendered.get("buttons"),
            depth=ctx.depth,
        )
        return StepOutcome(output={"message_id": message.pk, "text": message.body})

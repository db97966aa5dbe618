"""`auto_reply`: post a message from the system to the customer, optionally with buttons."""
from conversations import services
from conversations.choices import SenderType
from workflows.steps.registry import StepContext, StepOutcome, StepType, step_types


@step_types.register
class AutoReplyStep(StepType):
    type = "auto_reply"
    label = "Auto reply"
    schema = {
        "type": "object", "required": ["text"], "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 20000},
            "sender_type": {"enum": [SenderType.AI, SenderType.SYSTEM]},
            "buttons": {"type": "array", "items": {
                "type": "object", "required": ["label"], "additionalProperties": False,
                "properties": {"label": {"type": "string", "minLength": 1}, "url": {"type": "string"}},
            }},
        },
    }
    templated = ("text", "buttons")

    def execute(self, config: dict, ctx: StepContext) -> StepOutcome:
        rendered = self.render(config, ctx)
        message = services.message_create(
            conversation=ctx.conversation, body=rendered["text"], sender_type=config.get("sender_type", SenderType.AI),
            buttons=rendered.get("buttons"), depth=ctx.depth,
        )
        return StepOutcome(output={"message_id": message.pk, "text": message.body})

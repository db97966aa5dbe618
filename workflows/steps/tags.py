"""`add_tag` / `remove_tag`: change the conversation's tags through the service layer."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import services
from workflows.steps.registry import StepContext, StepOutcome, StepType, step_types

TAGS_SCHEMA = {
    "type": "object",
    "required": ["tags"],
    "properties": {
        "tags": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1, "maxLength": 100}}
    },
    "additionalProperties": False,
}


@step_types.register
class AddTagStep(StepType):
    type = "add_tag"
    label = _("Add tag")
    schema = TAGS_SCHEMA
    internal = True
    templated = ("tags",)

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        tags = self.render(config, ctx)["tags"]
        services.conversation_add_tags(conversation=ctx.require_conversation(), tags=tags, depth=ctx.depth)
        return StepOutcome(output={"tags": tags})


@step_types.register
class RemoveTagStep(StepType):
    type = "remove_tag"
    label = _("Remove tag")
    schema = TAGS_SCHEMA
    internal = True
    templated = ("tags",)

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        tags = self.render(config, ctx)["tags"]
        services.conversation_remove_tags(conversation=ctx.require_conversation(), tags=tags, depth=ctx.depth)
        return StepOutcome(output={"tags": tags})

"""`change_status` and `set_priority`: one field of the conversation, through the service layer."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.choices import Priority, Status
from workflows.steps.registry import StepContext, StepOutcome, StepType, step_types


@step_types.register
class ChangeStatusStep(StepType):
    type = "change_status"
    label = _("Change status")
    internal = True
    schema = {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"enum": list(Status.values)}},
    }

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        services.conversation_change_status(
            conversation=ctx.require_conversation(), status=config["status"], depth=ctx.depth, actor=ctx.actor
        )
        return StepOutcome(output={"status": config["status"]})


@step_types.register
class SetPriorityStep(StepType):
    type = "set_priority"
    label = _("Set priority")
    internal = True
    schema = {
        "type": "object",
        "required": ["priority"],
        "additionalProperties": False,
        "properties": {"priority": {"enum": list(Priority.values)}},
    }

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        services.conversation_set_priority(
            conversation=ctx.require_conversation(), priority=config["priority"], depth=ctx.depth
        )
        return StepOutcome(output={"priority": config["priority"]})

"""`create_ticket`: open a Ticket linked to the conversation, with a templated title and description.

The new ticket's id is kept as `vars.ticket_id`, so a later step can tell the customer their ticket number.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.choices import Priority
from workflows.steps.registry import StepContext, StepOutcome, StepType, step_types

NO_CONVERSATION = "This step needs a conversation; the event has none."


@step_types.register
class CreateTicketStep(StepType):
    type = "create_ticket"
    label = _("Create ticket")
    internal = True
    schema = {
        "type": "object",
        "required": ["title"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 300},
            "description": {"type": "string", "maxLength": 20000},
            "priority": {"enum": list(Priority.values)},
        },
    }
    templated = ("title", "description")

    def _ticket_fields(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """Rendered title and description; the priority defaults to the conversation's own."""
        rendered = self.render(config, ctx)
        return {
            "title": " ".join(rendered["title"].split())[:300],
            "description": rendered.get("description", ""),
            "priority": config.get("priority") or ctx.data["conversation"].get("priority") or Priority.NORMAL,
        }

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        return {"would": str(self.label), **self._ticket_fields(config, ctx)}

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        if ctx.conversation is None:
            return StepOutcome.failed(NO_CONVERSATION)
        ticket = services.ticket_create(
            conversation=ctx.conversation, depth=ctx.depth, **self._ticket_fields(config, ctx)
        )
        return StepOutcome(
            output={"ticket_id": ticket.pk, "title": ticket.title, "priority": ticket.priority},
            variables={"ticket_id": ticket.pk},
        )

"""`send_email`: email the customer (by default the contact's address) and keep a copy on the conversation.

Like Zendesk's outbound email comments, the email is recorded as a public `system` message, so agents and the
API see what the customer received; `record_message: false` leaves the conversation untouched. With no address
(the contact has no email and no `to` is given) the step fails and says so: nothing is sent or recorded.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.choices import SenderType
from workflows.steps import notifications
from workflows.steps.languages import translations_schema
from workflows.steps.notify import literal_address_errors
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, StepType, step_types

NO_CONVERSATION = "This step needs a conversation; the event has none."


@step_types.register
class SendEmailStep(StepType):
    type = "send_email"
    label = _("Send email")
    schema = {
        "type": "object",
        "required": ["subject", "body"],
        "additionalProperties": False,
        "properties": {
            "to": {"type": "string", "minLength": 1, "maxLength": 1000},
            "subject": {"type": "string", "minLength": 1, "maxLength": 250},
            "body": {"type": "string", "minLength": 1, "maxLength": 20000},
            "translations": translations_schema("subject", "body"),
            "record_message": {"type": "boolean"},
        },
    }
    templated = ("to", "subject", "body", "translations")

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        return literal_address_errors([config["to"]], "to") if "to" in config else []

    def _email(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """Rendered recipient(s), subject and body; no address at all is an error naming `to`."""
        rendered = self.render(config, ctx)
        to = rendered.get("to") or (ctx.data.get("contact") or {}).get("email") or ""
        addresses = notifications.check_addresses(notifications.split_addresses(to), "to")
        if not addresses:
            source = "The rendered `to` is empty" if "to" in config else "The contact has no email address"
            raise ValidationError({"to": f"{source}: there is nobody to send the email to."})
        return {"to": addresses, "subject": rendered["subject"], "body": rendered["body"]}

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        return {
            "would": str(self.label),
            **self._email(config, ctx),
            "record_message": config.get("record_message", True),
        }

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        if ctx.conversation is None:
            return StepOutcome.failed(NO_CONVERSATION)
        email = self._email(config, ctx)
        output = {"to": email["to"], "subject": email["subject"]}
        if config.get("record_message", True):
            message = services.message_create(
                conversation=ctx.conversation,
                body=email["body"],
                sender_type=SenderType.SYSTEM,
                depth=ctx.depth,
                deliver=False,
            )  # this step sends its own mail
            output["message_id"] = message.pk
        notifications.send(**email)  # last: a failed send raises and rolls the recorded message back
        return StepOutcome(output=output)

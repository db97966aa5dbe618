"""`notify`: an internal notification by email to users, teams (their email and their members') and addresses.

Recipients are resolved when the step runs (users by id, username or email; teams by id or name); an unknown
user or team fails the step naming it before anything is sent. The email ends with a link to the conversation.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from workflows.engine.context import template_error
from workflows.steps import notifications
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, StepType, step_types

REFERENCES = {"type": "array", "items": {"type": ["string", "integer"], "minLength": 1, "minimum": 1}}
RECIPIENT_KEYS = ("users", "teams", "emails")


@step_types.register
class NotifyStep(StepType):
    type = "notify"
    label = _("Notify")
    schema = {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "users": REFERENCES,
            "teams": REFERENCES,
            "emails": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "subject": {"type": "string", "maxLength": 250},
            "text": {"type": "string", "minLength": 1, "maxLength": 20000},
        },
    }
    templated = ("emails", "subject", "text")
    references = {"users": "agent", "teams": "team"}

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        if not any(config.get(key) for key in RECIPIENT_KEYS):
            return [("users", gettext("Name at least one recipient: users, teams or emails."))]
        return literal_address_errors(config.get("emails", []), "emails")

    def _email(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        rendered = self.render(config, ctx)
        return {
            "to": recipients(config, rendered),
            "subject": rendered.get("subject") or default_subject(ctx),
            "body": with_link(rendered["text"], ctx),
        }

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        return {"would": gettext("Send an internal email"), **self._email(config, ctx)}

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        email = self._email(config, ctx)
        notifications.send(**email)
        return StepOutcome(output={"to": email["to"], "subject": email["subject"]})


def recipients(config: dict[str, Any], rendered: dict[str, Any]) -> list[str]:
    """Every address the config names, without repeats; none at all is an error."""
    addresses = [user.email for user in notifications.resolve_users(config.get("users", []))]
    for team in notifications.resolve_teams(config.get("teams", [])):
        addresses += notifications.team_addresses(team)
    addresses += notifications.check_addresses(notifications.split_addresses(rendered.get("emails", [])), "emails")
    addresses = notifications.unique_addresses(addresses)
    if not addresses:
        raise ValidationError({"users": "None of the recipients has an email address."})
    return addresses


def literal_address_errors(addresses: list[Any], key: str) -> list[tuple[str, str]]:
    """Malformed addresses written literally (templates are checked when they render)."""
    literal = [a for a in addresses if isinstance(a, str) and "{" not in a and not template_error(a)]
    try:
        notifications.check_addresses(notifications.split_addresses(literal), key)
    except ValidationError as exc:
        return [(key, message) for messages in exc.message_dict.values() for message in messages]
    return []


def default_subject(ctx: StepContext) -> str:
    conversation = ctx.data.get("conversation") or {}
    return f"Conversation #{conversation.get('id')}: {conversation.get('subject') or '(no subject)'}"


def with_link(text: str, ctx: StepContext) -> str:
    """The text followed by where to open the conversation."""
    if ctx.conversation is None:
        return text
    return f"{text}\n\n--\nConversation #{ctx.conversation.pk}: {notifications.conversation_link(ctx.conversation)}"

"""`sms`: text a phone number through an integration's SMS provider (`workflows.integrations.sms_providers`).

`sender` and `recipient` (default: the contact's phone) must be E.164: literal numbers are checked when the workflow
is saved, templated ones when the step runs (a bad number fails the step naming the key, and nothing is sent).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from workflows.integrations import sms_providers
from workflows.outbound.client import OutboundRequest, OutboundResponse
from workflows.steps.outbound import OutboundStep
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, step_types


def _is_template(text: Any) -> bool:
    return isinstance(text, str) and ("{{" in text or "{%" in text)


@step_types.register
class SmsStep(OutboundStep):
    type = "sms"
    label = _("Send SMS")
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["integration", "sender", "text"],
        "properties": {
            "integration": {"type": ["string", "integer"], "minLength": 1},
            "provider": {"enum": list(sms_providers.PROVIDERS)},
            "sender": {"type": "string", "minLength": 1},
            "recipient": {"type": "string", "minLength": 1},
            "text": {"type": "string", "minLength": 1, "maxLength": sms_providers.MAX_TEXT},
        },
    }
    templated = ("sender", "recipient", "text")
    endpoint_kind = "sms"

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        for key in ("sender", "recipient"):
            if key in config and not _is_template(config[key]):
                try:
                    sms_providers.phone_number(config[key], key)
                except ValidationError as exc:
                    errors += [(key, message) for message in exc.message_dict[key]]
        return errors

    def message(self, rendered: dict[str, Any], ctx: StepContext) -> sms_providers.SmsMessage:
        """The rendered message; the recipient defaults to the contact's phone."""
        recipient = rendered.get("recipient") or (ctx.data.get("contact") or {}).get("phone")
        if not recipient:
            raise ValidationError({"recipient": "No recipient: the contact has no phone number."})
        return sms_providers.sms_message(sender=rendered["sender"], recipient=recipient, text=rendered["text"])

    def build_request(self, rendered: dict[str, Any], integration: Any, ctx: StepContext) -> OutboundRequest:
        return sms_providers.sms_request(
            integration=integration, provider=rendered.get("provider"), message=self.message(rendered, ctx)
        )

    def default_base(self, rendered: dict[str, Any]) -> str:
        return sms_providers.get_provider(rendered.get("provider")).default_base_url

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        message = self.message(self.render(config, ctx), ctx)
        description = super().describe(config, ctx)
        return {
            **description,
            "provider": config.get("provider", sms_providers.DEFAULT_PROVIDER),
            "from": message.sender,
            "to": message.recipient,
            "text": message.text,
        }

    def read_response(self, response: OutboundResponse, rendered: dict[str, Any], ctx: StepContext) -> StepOutcome:
        result = sms_providers.get_provider(rendered.get("provider")).read_result(response)
        return StepOutcome(output={**result, "to": self.message(rendered, ctx).recipient})

"""`custom_action`: run a published custom action (docs/managers.md). The templated input is checked against the
action's input JSON Schema before the call and the reply against its output schema after; a schema failure fails the
step with the jsonschema message (never raised). The reply is saved to `vars.<action>` (or `vars.<save_as>`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from workflows.integrations import custom_actions
from workflows.models import CustomAction
from workflows.outbound.client import OutboundRequest, OutboundResponse
from workflows.steps.outbound import OutboundStep
from workflows.steps.registry import StepContext, StepOutcome, step_types


class SchemaFailure(ValueError):
    """The input broke the action's input schema: OutboundStep turns this ValueError into a failed step."""


@step_types.register
class CustomActionStep(OutboundStep):
    type = "custom_action"
    label = _("Custom action")
    schema = {
        "type": "object",
        "required": ["action"],
        "additionalProperties": False,
        "properties": {
            "action": {"type": ["string", "integer"], "minLength": 1},
            "input": {"type": "object"},
            "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
            "save_as": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        },
    }
    templated = ("input",)
    # Checked on save with the other references (that it exists and is published), one query per definition.
    references = {"action": "custom_action"}

    def action_for(self, config: dict[str, Any]) -> CustomAction:
        """Looked up at every execution: an action unpublished since the workflow was saved fails the step."""
        return custom_actions.published_action(config["action"])

    def integration_for(self, config: dict[str, Any]) -> Any:
        return self.action_for(config).integration

    def build_request(self, rendered: dict[str, Any], integration: Any, ctx: StepContext) -> OutboundRequest:
        action = self.action_for(rendered)
        payload = custom_actions.coerce_to_schema(action.input_schema, rendered.get("input", {}))
        errors = custom_actions.schema_errors(action.input_schema, payload, where="input")
        if errors:
            raise SchemaFailure(f'Custom action "{action.name}" input breaks its schema: ' + "; ".join(errors))
        return custom_actions.build_request(action, payload, timeout=rendered.get("timeout_seconds"))

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """Dry run: the request it would send; input that breaks the schema fails the dry-run step."""
        try:
            return super().describe(config, ctx)
        except SchemaFailure as exc:
            raise ValidationError(str(exc)) from exc

    def read_response(self, response: OutboundResponse, rendered: dict[str, Any], ctx: StepContext) -> StepOutcome:
        action = self.action_for(rendered)
        output = custom_actions.output_of(response)
        result = {"status_code": response.status_code, "response": output}
        errors = custom_actions.schema_errors(action.output_schema, output, where="output")
        if errors:
            return StepOutcome.failed(
                f'Custom action "{action.name}" output breaks its schema: ' + "; ".join(errors), **result
            )
        return StepOutcome(output=result, variables={rendered.get("save_as") or action.name: output})

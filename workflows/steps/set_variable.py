"""`set_variable`: store a (templated) value as `vars.<name>` for later steps."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from workflows.steps.registry import StepContext, StepOutcome, StepType, step_types


@step_types.register
class SetVariableStep(StepType):
    type = "set_variable"
    label = _("Set variable")
    schema = {
        "type": "object",
        "required": ["name", "value"],
        "additionalProperties": False,
        "properties": {"name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, "value": {}},
    }
    templated = ("value",)
    has_side_effects = False

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        value = self.render(config, ctx)["value"]
        return StepOutcome(output={config["name"]: value}, variables={config["name"]: value})

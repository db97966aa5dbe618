"""`condition`: evaluate a condition tree; when false, the step's `on_false` decides (stop, continue, skip_next)."""

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from workflows.engine import conditions
from workflows.steps.registry import DefinitionInfo, Outcome, StepContext, StepOutcome, StepType, step_types


@step_types.register
class ConditionStep(StepType):
    type = "condition"
    label = _("Condition")
    category = "condition"
    schema = {"type": "object", "minProperties": 1}
    has_side_effects = False

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        if "all" not in config and "any" not in config and "field" not in config:
            return [("all", gettext('A condition step needs "all", "any" or a single {field, op, value}.'))]
        return conditions.validate(config)

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        result = conditions.evaluate(config, ctx.data)
        return {"would": str(self.label), "result": result, "checks": conditions.explain(config, ctx.data)}

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        output = {"result": conditions.evaluate(config, ctx.data), "checks": conditions.explain(config, ctx.data)}
        return StepOutcome(status=Outcome.SUCCEEDED if output["result"] else Outcome.CONDITION_FALSE, output=output)

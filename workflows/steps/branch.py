"""`branch`: exactly one of several paths runs — the first branch whose condition is true, else `else`
(docs/managers.md).

The nested steps are part of the definition; the definition validator checks them (and their depth) like top-level
steps, and the runner walks them laid out flat (`workflows.engine.program`). The step itself only chooses.
"""

from typing import Any

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from workflows.engine import conditions
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, StepType, step_types

ELSE = "else"


@step_types.register
class BranchStep(StepType):
    type = "branch"
    label = _("Branch")
    category = "flow"
    schema = {
        "type": "object",
        "required": ["branches"],
        "additionalProperties": False,
        "properties": {
            "branches": {
                "type": "array",
                "minItems": 1,
                "maxItems": 10,
                "x-editor": "json",
                "description": gettext_noop(
                    'Each path: {"name", "condition": {"all": [...]}, "steps": '
                    "[...]}; the first whose condition holds runs."
                ),
                "items": {
                    "type": "object",
                    "required": ["name", "condition"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 100},
                        "condition": {"type": "object"},
                        "steps": {"type": "array"},
                    },
                },
            },
            "else": {
                "type": "array",
                "x-editor": "json",
                "description": gettext_noop("The steps that run when no branch condition holds."),
            },
        },
    }
    has_side_effects = False

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        errors, seen = [], set()
        for index, branch in enumerate(config["branches"]):
            name = branch["name"].strip()
            if name.casefold() == ELSE or name.casefold() in seen:
                errors.append(
                    (
                        f"branches[{index}].name",
                        gettext('Each branch needs its own name (not "%(name)s").') % {"name": ELSE},
                    )
                )
            seen.add(name.casefold())
            errors += conditions.validate(branch["condition"], f"branches[{index}].condition")
        return errors

    def choose(self, config: dict[str, Any], data: dict[str, Any]) -> tuple[int, str]:
        """The path that runs: (its 1-based number, its name); `else` is the number after the last branch."""
        for number, branch in enumerate(config["branches"], start=1):
            if conditions.evaluate(branch["condition"], data):
                return number, branch["name"]
        return len(config["branches"]) + 1, ELSE

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        return {"would": str(self.label), "path": self.choose(config, ctx.data)[1]}

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        number, name = self.choose(config, ctx.data)
        return StepOutcome(output={"path": name}, chosen_path=number)

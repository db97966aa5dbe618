"""`wait`: the run sleeps durably. The resume time is a column of the run, so any worker resumes it after restarts."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import clock
from workflows.steps.registry import (
    DURATION_PROPERTIES,
    DefinitionInfo,
    Outcome,
    StepContext,
    StepOutcome,
    StepType,
    duration_of,
    step_types,
    validate_duration,
)


@step_types.register
class WaitStep(StepType):
    type = "wait"
    label = _("Wait")
    category = "flow"
    schema = {"type": "object", "additionalProperties": False, "properties": DURATION_PROPERTIES}
    has_side_effects = False

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        return validate_duration(config)

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        return {"would": str(self.label), "seconds": int(duration_of(config).total_seconds())}

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        resume_at = clock.now() + duration_of(config)
        return StepOutcome(status=Outcome.WAITING, resume_at=resume_at, output={"resume_at": resume_at.isoformat()})

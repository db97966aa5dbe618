"""`schedule_event` / `clear_scheduled_event`: promise a later `scheduled_event.fired` unless it is cleared first."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import clock
from workflows.choices import ScheduledEventStatus
from workflows.models import ScheduledEvent
from workflows.steps.registry import (
    DURATION_PROPERTIES,
    DefinitionInfo,
    StepContext,
    StepOutcome,
    StepType,
    duration_of,
    step_types,
    validate_duration,
)

NAME_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 100}


@step_types.register
class ScheduleEventStep(StepType):
    type = "schedule_event"
    label = _("Schedule event")
    category = "flow"
    schema = {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {"name": NAME_SCHEMA, **DURATION_PROPERTIES},
    }

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        return validate_duration(config)

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        fire_at = clock.now() + duration_of(config)
        return {"would": str(self.label), "name": config["name"], "fire_at": fire_at.isoformat()}

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        scheduled = ScheduledEvent.objects.create(
            conversation=ctx.require_conversation(),
            name=config["name"],
            fire_at=clock.now() + duration_of(config),
            depth=ctx.depth,
            created_by_run=ctx.run,
        )
        return StepOutcome(output={"scheduled_event_id": scheduled.pk, "fire_at": scheduled.fire_at.isoformat()})


@step_types.register
class ClearScheduledEventStep(StepType):
    type = "clear_scheduled_event"
    label = _("Clear scheduled event")
    category = "flow"
    schema = {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {"name": NAME_SCHEMA},
    }

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        cleared = ScheduledEvent.objects.filter(
            conversation=ctx.require_conversation(), name=config["name"], status=ScheduledEventStatus.PENDING
        ).update(status=ScheduledEventStatus.CLEARED)
        return StepOutcome(output={"cleared": cleared})

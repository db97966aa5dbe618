"""`wait_for`: the run waits durably until an event of a type happens on its conversation and passes that trigger
type's filters, or until the timeout (docs/managers.md); `vars.<save_as>` then says which.

The wait is a `RunWait` row (the run's resume time is its deadline): the dispatcher looks up the waits of an event's
own conversation and type (`workflows.engine.waits`) and matches them with the same trigger filters that start
workflows; whoever deletes the row — the dispatcher for a matching event, or `resume` here at the deadline — settles
the wait, so the run resumes exactly once.
"""

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations import clock
from workflows.models import RunWait, StepRun, WorkflowRun
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

DEFAULT_SAVE_AS = "wait"


def timed_out() -> dict[str, Any]:
    """The value a wait that ran out leaves in `vars.<save_as>`."""
    return {"outcome": "timed_out", "event": None}


def timeout_words(timeout: dict[str, Any]) -> str:
    """A timeout in words: "1 day", "2 hours 30 minutes"."""
    parts = []
    for key in ("days", "hours", "minutes"):
        amount = timeout.get(key)
        if amount:
            unit = key[:-1] if amount == 1 else key
            parts.append(f"{amount:g} {unit}" if isinstance(amount, float) else f"{amount} {unit}")
    return " ".join(parts) or "0 minutes"


@step_types.register
class WaitForStep(StepType):
    type = "wait_for"
    label = _("Wait for an event")
    category = "flow"
    schema = {
        "type": "object",
        "required": ["event", "timeout"],
        "additionalProperties": False,
        "properties": {
            "event": {"type": "string", "minLength": 1},
            "filter": {"type": "object"},
            "timeout": {"type": "object", "additionalProperties": False, "properties": DURATION_PROPERTIES},
            "save_as": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        },
    }
    # It writes its wait row (nothing a later step reads), and it ends the run's segment by waiting.
    has_side_effects = True

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        errors = [(f"timeout.{key}", message) for key, message in validate_duration(config["timeout"])]
        if info.check_trigger_config is None:
            return errors
        found = info.check_trigger_config(config["event"], config.get("filter") or {})
        if found is None:
            return errors + [
                ("event", gettext('Unknown event type "%(event)s": use a trigger type.') % {"event": config["event"]})
            ]
        return errors + [(f"filter.{key}" if key else "filter", message) for key, message in found]

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        shown = ", ".join(f"{key} {value}" for key, value in (config.get("filter") or {}).items()) or gettext(
            "anything"
        )
        return {
            "would": gettext("would wait for %(event)s matching %(filter)s, up to %(timeout)s")
            % {"event": config["event"], "filter": shown, "timeout": timeout_words(config["timeout"])},
            "event": config["event"],
            "filter": config.get("filter") or {},
            "timeout_seconds": int(duration_of(config["timeout"]).total_seconds()),
            "save_as": config.get("save_as", DEFAULT_SAVE_AS),
        }

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        if ctx.conversation is None or ctx.run is None:
            return StepOutcome.failed("wait_for needs a run on a conversation.")
        now = clock.now()
        deadline = now + duration_of(config["timeout"])
        RunWait.objects.update_or_create(
            run=ctx.run,
            defaults={
                "conversation": ctx.conversation,
                "event_type": config["event"],
                "filter": config.get("filter") or {},
                "save_as": config.get("save_as", DEFAULT_SAVE_AS),
                "since": now,
                "deadline": deadline,
            },
        )
        return StepOutcome(
            status=Outcome.WAITING,
            resume_at=deadline,
            output={
                "waiting_for": config["event"],
                "filter": config.get("filter") or {},
                "deadline": deadline.isoformat(),
            },
        )

    def resume(self, config: dict[str, Any], run: WorkflowRun, step_run: StepRun) -> StepOutcome | None:
        """At the deadline: claim the wait by deleting its row. Gone already means a matching event settled it."""
        deleted, _ = RunWait.objects.filter(run=run).delete()
        if not deleted:
            return None
        outcome = timed_out()
        return StepOutcome(output=outcome, variables={config.get("save_as", DEFAULT_SAVE_AS): outcome})

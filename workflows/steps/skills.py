"""`set_skills`: set the skills an agent needs to take the conversation from its team's queue (docs/routing.md), e.g. after
a condition on an intent or a detected language. Names are normalised as agents' skills are (trimmed, lower-case)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.routing.skills import MAX_SKILL_LENGTH, MAX_SKILLS
from workflows.steps.registry import StepContext, StepOutcome, StepType, step_types

NO_CONVERSATION = "This step needs a conversation; the event has none."


@step_types.register
class SetSkillsStep(StepType):
    type = "set_skills"
    label = _("Set required skills")
    internal = True
    schema = {
        "type": "object",
        "required": ["skills"],
        "additionalProperties": False,
        "properties": {
            "skills": {
                "type": "array",
                "maxItems": MAX_SKILLS,
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_SKILL_LENGTH, "pattern": r"\S"},
            }
        },
    }

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        skills = [name.strip().lower() for name in config["skills"]]
        return {"would": str(self.label), "input": {"skills": skills}}

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        if ctx.conversation is None:
            return StepOutcome.failed(NO_CONVERSATION)
        conversation = services.conversation_set_required_skills(conversation=ctx.conversation, skills=config["skills"])
        return StepOutcome(output={"required_skills": list(conversation.required_skills)})

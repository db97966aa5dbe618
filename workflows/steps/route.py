"""`route`: assign the conversation to a team and/or an agent, respecting agent status, capacity and skills.

Strategies (see workflows/steps/routing.py): `specific` (the named agent, or just the team), `round_robin` (the team's
eligible agent assigned longest ago) and `least_busy` (the eligible agent with the fewest open conversations).
When nobody is eligible the conversation waits in the team's queue (team set, no assignee, `queued_since`) and the
output says why: that is a routing result, not a failure; the queue offers it to the next agent whose seat frees.
"""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations import selectors, services
from workflows.steps import routing
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, StepType, step_types

NO_CONVERSATION = "This step needs a conversation; the event has none."
REFERENCE = {"type": ["string", "integer"], "minLength": 1, "minimum": 1}


@step_types.register
class RouteStep(StepType):
    type = "route"
    label = _("Route")
    internal = True
    schema = {
        "type": "object",
        "required": ["strategy"],
        "additionalProperties": False,
        "properties": {
            "team": REFERENCE,
            "agent": REFERENCE,
            "strategy": {"enum": list(routing.STRATEGIES), "default": routing.LEAST_BUSY},
        },
    }
    templated = ("team", "agent")
    references = {"team": "team", "agent": "agent"}

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        strategy = config["strategy"]
        if strategy == routing.SPECIFIC:
            if "team" not in config and "agent" not in config:
                return [("agent", gettext("The specific strategy needs an agent, a team or both."))]
            return []
        errors = []
        if "team" not in config:
            errors.append(
                (
                    "team",
                    gettext("The %(strategy)s strategy picks an agent of a team: name the team.")
                    % {"strategy": strategy},
                )
            )
        if "agent" in config:
            errors.append(
                (
                    "agent",
                    gettext("The %(strategy)s strategy chooses the agent itself; use specific to name one.")
                    % {"strategy": strategy},
                )
            )
        return errors

    def _decide(self, config: dict[str, Any], ctx: StepContext, lock: bool) -> routing.RoutingDecision:
        rendered = self.render(config, ctx)
        team = selectors.resolve_team(rendered["team"]) if _given(rendered.get("team")) else None
        agent = selectors.resolve_agent(rendered["agent"]) if _given(rendered.get("agent")) else None
        return routing.decide(
            conversation=ctx.require_conversation(), strategy=config["strategy"], team=team, agent=agent, lock=lock
        )

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        if ctx.conversation is None:
            return {"would": str(self.label), "input": self.render(config, ctx), "error": NO_CONVERSATION}
        decision = self._decide(config, ctx, lock=False)
        return {
            "would": str(self.label),
            "input": self.render(config, ctx),
            "strategy": config["strategy"],
            **decision.as_data(),
        }

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        if ctx.conversation is None:
            return StepOutcome.failed(NO_CONVERSATION)
        with transaction.atomic():  # the candidates stay locked until the assignment is written
            ctx.conversation.refresh_from_db(fields=["assignee", "team"])
            decision = self._decide(config, ctx, lock=True)
            changed = _apply(decision, ctx)
        return StepOutcome(output={"strategy": config["strategy"], "assigned": changed, **decision.as_data()})


def _given(value: Any) -> bool:
    return value not in (None, "")


def _apply(decision: routing.RoutingDecision, ctx: StepContext) -> bool:
    """Write the decision through the service layer; True when the assignee or team changed."""
    conversation = ctx.require_conversation()
    before = (conversation.assignee_id, conversation.team_id)
    changes: dict[str, Any] = {}
    if decision.team is not None:
        changes["team"] = decision.team
    if decision.agent is not None:
        changes["assignee"] = decision.agent
    elif decision.team is not None and not decision.keep_assignee:
        changes["assignee"] = None
    if not changes:
        return False
    services.conversation_assign(conversation=conversation, depth=ctx.depth, actor=ctx.actor, **changes)
    if decision.agent is not None and conversation.assignee_id != before[0]:
        services.agent_mark_assigned(agent=decision.agent)
    return (conversation.assignee_id, conversation.team_id) != before

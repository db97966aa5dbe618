"""Fixtures for step-type tests: agents in teams, running a one-workflow scenario, and dry-run contexts."""
import pytest

from conversations.models import Event
from conversations.roles import AGENTS_GROUP
from tests.conftest import make_user
from tests.support.runs import only_run  # noqa: F401  (the test files that import it from here keep working)
from workflows.engine.context import build_context
from workflows.models import WorkflowRun
from workflows.steps.registry import StepContext


@pytest.fixture
def make_agent(roles):
    """An agent (user + profile) in the given teams, with capacity, status, skills and last assignment."""
    def make(username, *teams, capacity=10, status="online", skills=(), last_assigned_at=None):
        user = make_user(username, AGENTS_GROUP, capacity=capacity, status=status, skills=list(skills),
                         last_assigned_at=last_assigned_at)
        user.agent_profile.teams.add(*teams)
        return user
    return make


def step_output(workflow, position: int = 0) -> dict:
    return only_run(workflow).steps.get(position=position).output


def events_after(run: WorkflowRun, type_: str) -> list[Event]:
    """Events of `type_` on the run's conversation caused after the run's trigger (i.e. by its steps)."""
    return list(Event.objects.filter(conversation=run.conversation, type=type_,
                                     occurred_at__gte=run.event.occurred_at).exclude(pk=run.event.pk))


def dry_run_context(conversation) -> StepContext:
    """The context a dry run gives a step: the conversation's latest event, nothing written."""
    event = Event.objects.filter(conversation=conversation).order_by("-occurred_at").first()
    return StepContext(data=build_context(event, {}, conversation), event=event, conversation=conversation,
                       depth=event.depth + 1, dry_run=True, trigger_type=event.type)


def definition_errors(*steps: dict, trigger: str = "conversation.created") -> dict[str, list[str]]:
    """The errors validate_definition reports for a workflow made of `steps` ({} when it is valid), leaving out the
    checks of the rows it names (tests/workflows/test_api_references.py has those): no database needed."""
    from workflows.engine.definition import DefinitionError, validate_definition

    try:
        validate_definition({"name": "Check", "trigger": {"type": trigger, "config": {}}, "steps": list(steps)},
                            check_references=False)
    except DefinitionError as exc:
        return exc.errors
    return {}

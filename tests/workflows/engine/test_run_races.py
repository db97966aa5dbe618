"""A cancel that lands while a step executes wins; a step whose workers keep dying is given up, not re-sent forever."""

import datetime as dt
from typing import ClassVar

import pytest

from conversations import clock
from tests.support.runs import drain
from workflows import services as workflow_services
from workflows.choices import StepStatus
from workflows.engine.sweep import resume_due_runs
from workflows.models import StepRun, WorkflowRun
from workflows.steps.registry import StepOutcome, StepType, step_types


class CancelledMeanwhileStep(StepType):
    """An outbound-like step during whose 'network call' a manager cancels the run; it then reports `outcome`."""

    type = "cancelled_meanwhile_for_test"
    label = "Cancelled meanwhile"
    transactional = False
    outcome: ClassVar[str] = "retry"

    def execute(self, config, ctx):
        workflow_services.run_cancel(run=WorkflowRun.objects.get(pk=ctx.run.pk))
        if self.outcome == "retry":
            return StepOutcome(status="retry", resume_at=clock.now() + dt.timedelta(seconds=30), error="HTTP 503")
        return StepOutcome.failed("HTTP 400") if self.outcome == "failed" else StepOutcome()


@pytest.fixture
def cancelled_meanwhile():
    with step_types.register_temporarily(CancelledMeanwhileStep):
        yield CancelledMeanwhileStep


@pytest.mark.parametrize("outcome", ["retry", "failed", "succeeded"])
def test_a_cancel_during_a_step_is_not_overwritten(conversation, make_workflow, cancelled_meanwhile, outcome):
    cancelled_meanwhile.outcome = outcome
    workflow = make_workflow(
        "conversation.created",
        [
            {"type": cancelled_meanwhile.type, "config": {}},
            {"type": "add_tag", "config": {"tags": ["after-cancel"]}},
        ],
    )
    drain()
    run = WorkflowRun.objects.get(workflow=workflow)
    assert (run.status, run.resume_at) == ("cancelled", None)
    with clock.travel(dt.timedelta(hours=1)):
        resume_due_runs(clock.now())
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert not conversation.tags.filter(name="after-cancel").exists()


class NeverCalledStep(StepType):
    type = "never_called_for_test"
    label = "Never called"
    transactional = False
    calls: ClassVar[int] = 0

    def execute(self, config, ctx):
        NeverCalledStep.calls += 1
        return StepOutcome()


def stuck_run(make_workflow, attempts: int) -> WorkflowRun:
    """A finished one-step run turned back into what dead workers leave: running, lease expired, its step
    `running` after `attempts` started attempts."""
    workflow = make_workflow("conversation.created", [{"type": NeverCalledStep.type, "config": {}}])
    drain()
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "succeeded" and NeverCalledStep.calls == 1
    StepRun.objects.filter(run=run).update(status=StepStatus.RUNNING, attempts=attempts)
    WorkflowRun.objects.filter(pk=run.pk).update(
        status="running", lease_until=clock.now() - dt.timedelta(1), finished_at=None, position=0
    )
    return run


@pytest.fixture
def never_called(settings):
    settings.HELPDESK_RETRY_MAX_ATTEMPTS = 3
    NeverCalledStep.calls = 0
    with step_types.register_temporarily(NeverCalledStep):
        yield NeverCalledStep


def test_a_step_whose_workers_keep_dying_is_given_up(conversation, make_workflow, never_called):
    """A step left `running` by dead workers as often as the retry budget allows fails instead of running again."""
    run = stuck_run(make_workflow, attempts=3)
    resume_due_runs(clock.now())
    run.refresh_from_db()
    step = run.steps.get()
    assert (run.status, step.status, step.attempts) == ("failed", "failed", 3)
    assert "stopped 3 times" in step.error
    assert never_called.calls == 1


def test_stuck_step_below_the_budget_is_tried_again(conversation, make_workflow, never_called):
    run = stuck_run(make_workflow, attempts=1)
    resume_due_runs(clock.now())
    run.refresh_from_db()
    assert (run.status, run.steps.get().attempts, never_called.calls) == ("succeeded", 2, 2)

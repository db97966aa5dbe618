"""A segment's first attempt opens no savepoint in the services its steps call (workflows/engine/runner.py,
`_savepoints_off`): a SAVEPOINT and a RELEASE per service call were the costliest statements of a step that changes
nothing. A statement that fails inside such a block, even one the step catches, replays the segment with savepoints,
so the run's result is what it would have been with them.

The tests run inside a transaction, so the segment's own `atomic` is a savepoint here (one per segment); in a worker
it is the transaction itself and no SAVEPOINT is issued at all.
"""

from __future__ import annotations

import gc
from typing import ClassVar

from django.db import IntegrityError, connections, transaction

from conversations.models import Tag
from tests.support.runs import customer_message, segment_statements
from workflows.engine import drain
from workflows.engine.drain import drain_events
from workflows.models import WorkflowRun
from workflows.steps import StepOutcome, StepType, step_types


def test_a_segment_of_service_steps_opens_no_savepoint_of_their_own(conversation, make_workflow, monkeypatch):
    make_workflow(
        "message.created",
        [
            {"type": "add_tag", "config": {"tags": ["seen"]}},
            {"type": "set_priority", "config": {"priority": "high"}},
            {"type": "set_priority", "config": {"priority": "high"}},  # a no-op: the lock's read, nothing else
        ],
        {"sender_types": ["customer"]},
    )
    customer_message(conversation)
    statements = segment_statements(monkeypatch)
    drain_events(budget_seconds=5)
    run = WorkflowRun.objects.get()
    assert (run.status, run.steps.count()) == ("succeeded", 3)
    conversation.refresh_from_db()
    assert (conversation.priority, list(conversation.tags.values_list("name", flat=True))) == ("high", ["seen"])
    # The segment's own (a savepoint only because the test's transaction is around it), none per service call
    assert [sql for sql in statements if sql.startswith("SAVEPOINT")] == statements[:1]
    assert statements[-1].startswith("RELEASE SAVEPOINT")


class SwallowsAFailedInsertStep(StepType):
    """A step that tries to create a tag that exists inside an `atomic` block, catches the IntegrityError (as
    `get_or_create` does) and then reads: without a savepoint the read cannot run, so the segment replays."""

    type = "test_swallows_failed_insert"
    label = "Swallows a failed insert"
    schema = {"type": "object"}
    has_side_effects = True
    executions: ClassVar[int] = 0

    def execute(self, config, ctx):
        SwallowsAFailedInsertStep.executions += 1
        try:
            with transaction.atomic():
                Tag.objects.create(name="taken")
        except IntegrityError:
            pass
        return StepOutcome(output={"tags": Tag.objects.filter(name="taken").count()})


def test_a_failure_a_step_catches_replays_the_segment_with_savepoints(conversation, make_workflow):
    Tag.objects.create(name="taken")
    SwallowsAFailedInsertStep.executions = 0
    with step_types.register_temporarily(SwallowsAFailedInsertStep):
        make_workflow(
            "message.created",
            [
                {"type": "add_tag", "config": {"tags": ["before"]}},
                {"type": SwallowsAFailedInsertStep.type, "config": {}},
                {"type": "add_tag", "config": {"tags": ["after"]}},
            ],
            {"sender_types": ["customer"]},
        )
        customer_message(conversation)
        drain_events(budget_seconds=5)
    run = WorkflowRun.objects.get()
    assert run.status == "succeeded", run.error
    assert [(step.type, step.status, step.output) for step in run.steps.all()] == [
        ("add_tag", "succeeded", {"tags": ["before"]}),
        (SwallowsAFailedInsertStep.type, "succeeded", {"tags": 1}),
        ("add_tag", "succeeded", {"tags": ["after"]}),
    ]
    assert SwallowsAFailedInsertStep.executions == 2  # the attempt without savepoints, then the replay with them
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["after", "before"]  # once each
    assert "savepoint" not in vars(connections["default"])  # the backend's own method again


def test_a_worker_freezes_what_its_first_drain_left_alive(conversation, make_workflow, monkeypatch):
    monkeypatch.setattr(drain, "_settled", [False])
    gc.unfreeze()
    try:
        drain_events(budget_seconds=5)
        frozen = gc.get_freeze_count()
        drain_events(budget_seconds=5)
        assert frozen > 0
        assert gc.get_freeze_count() <= frozen  # once per process, not after every drain
    finally:
        gc.unfreeze()

"""Durability of runs (docs/operations.md): a worker that dies mid-run leaves work that the sweep finishes without
executing a finished step twice; redelivered or lost queue messages neither double nor lose a run; concurrent sweeps
share work.

A worker's death in-process is a BaseException raised inside a step (the runner catches Exception only, so it
unwinds like a killed process would: the step's transaction rolls back and the run keeps its lease). The real kill
is a subprocess, SIGKILLed while a step blocks, on a SQLite file of its own.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import ClassVar

import pytest
from django.db import OperationalError, connection

from conversations import clock, services
from conversations.models import Event
from tests.support.runs import customer_message, message_event, replies
from tests.workflows.procs import (
    SLOW_STEP,
    call,
    kill_in_slow_step,
    migrate,
    project_env,
)
from workflows.engine import runner
from workflows.engine.dispatcher import dispatch_event
from workflows.engine.drain import dispatch_and_run, drain_events
from workflows.engine.sweep import EVENT_GRACE, sweep_once
from workflows.models import WorkflowRun
from workflows.steps import StepOutcome, StepType, step_types
from workflows.tasks import dispatch_event_task

AFTER_LEASE = runner.LEASE + dt.timedelta(seconds=1)
GREETING = "We got your message, {{ contact.name }}."


class WorkerKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the runner catches it."""


class DieOnceStep(StepType):
    """A test step that tags the conversation; its first execution then kills the worker, later ones succeed."""

    type = "test_die_once"
    label = "Die once"
    schema = {"type": "object"}
    executions = 0

    def execute(self, config, ctx):
        type(self).executions += 1
        services.conversation_add_tags(conversation=ctx.conversation, tags=["half-done"], depth=ctx.depth)
        if type(self).executions == 1:
            raise WorkerKilled()
        return StepOutcome(output={"executions": type(self).executions})


@pytest.fixture
def die_once():
    DieOnceStep.executions = 0
    with step_types.register_temporarily(DieOnceStep):
        yield DieOnceStep


def step_log(run: WorkflowRun) -> list[tuple[str, str, int]]:
    return [(step.type, step.status, step.attempts) for step in run.steps.all()]


def test_abandoned_claim_is_taken_again_only_after_the_lease(conversation, make_workflow):
    workflow = make_workflow("message.created", [{"type": "auto_reply", "config": {"text": GREETING}}])
    customer_message(conversation)
    (run_id,) = dispatch_event(message_event(conversation.messages.get()).pk)
    assert runner.claim_run(run_id) is not None  # this worker now dies without doing anything
    assert runner.claim_run(run_id) is None  # the lease keeps other workers off
    assert sweep_once()["runs"] == 0
    with clock.travel(AFTER_LEASE):
        assert sweep_once()["runs"] == 1
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "succeeded"
    assert replies(conversation) == ["We got your message, Ada Lovelace."]


def test_worker_killed_mid_run_leaves_no_partial_effect_and_resumes_each_step_once(
    conversation, make_workflow, die_once
):
    """Consecutive internal steps commit together: a worker killed in the third leaves nothing of the first two
    either, and the resumed run executes each step exactly once."""
    workflow = make_workflow(
        "message.created",
        [
            {"type": "add_tag", "config": {"tags": ["vip"]}},
            {"type": "auto_reply", "config": {"text": GREETING}},
            {"type": die_once.type, "config": {}},
            {"type": "add_tag", "config": {"tags": ["done"]}},
        ],
        {"sender_types": ["customer"]},
    )
    message = customer_message(conversation)
    with pytest.raises(WorkerKilled):
        dispatch_and_run(message_event(message).pk)
    run = WorkflowRun.objects.get(workflow=workflow)
    assert (run.status, run.position) == ("running", 0)
    assert list(conversation.tags.values_list("name", flat=True)) == []  # the killed segment left nothing
    assert replies(conversation) == [] and not run.steps.exists()
    sweep_once()
    assert WorkflowRun.objects.get(pk=run.pk).status == "running"  # still leased to the dead worker
    with clock.travel(AFTER_LEASE):
        sweep_once()
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert step_log(run) == [
        ("add_tag", "succeeded", 1),
        ("auto_reply", "succeeded", 1),
        (die_once.type, "succeeded", 1),
        ("add_tag", "succeeded", 1),
    ]
    assert replies(conversation) == ["We got your message, Ada Lovelace."]
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["done", "half-done", "vip"]
    tag_events = Event.objects.filter(conversation=conversation, type="conversation.tags_changed")
    assert sorted(tuple(event.payload["added"]) for event in tag_events) == [("done",), ("half-done",), ("vip",)]


@pytest.mark.services
def test_sigkilled_worker_leaves_a_run_the_sweep_completes_once(tmp_path):
    env = project_env(sqlite_path=tmp_path / "kill.sqlite3")
    migrate(env)
    marker = tmp_path / "slow-step-started"
    definition = {
        "name": "Reply, then a slow call",
        "status": "active",
        "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        "steps": [
            {"type": "add_tag", "config": {"tags": ["vip"]}},
            {"type": "auto_reply", "config": {"text": "Thanks {{ contact.name }}"}},
            {"type": SLOW_STEP, "config": {}},
            {"type": "add_tag", "config": {"tags": ["done"]}},
        ],
    }
    kill_in_slow_step(env, definition, marker, tmp_path / "worker.log")
    result = call(env, "sweep_after_lease", 1)
    (before,) = result["before"]["runs"]
    # The slow step shares a transaction with the steps before it: the kill left none of their effects.
    assert (before["status"], before["position"], before["tags"]) == ("running", 0, [])
    (after,) = result["after"]["runs"]
    assert after["status"] == "succeeded", after
    assert [(step["type"], step["status"], step["attempts"]) for step in after["steps"]] == [
        ("add_tag", "succeeded", 1),
        ("auto_reply", "succeeded", 1),
        (SLOW_STEP, "succeeded", 1),
        ("add_tag", "succeeded", 1),
    ]
    assert after["replies"] == ["Thanks Grace Hopper"]
    assert (after["tags"], after["tag_events"]) == (["done", "vip"], 2)


def test_redelivered_dispatch_task_creates_one_run(conversation, make_workflow):
    workflow = make_workflow(
        "message.created", [{"type": "auto_reply", "config": {"text": GREETING}}], {"sender_types": ["customer"]}
    )
    event = message_event(customer_message(conversation))
    assert dispatch_event_task(str(event.pk)) == 1
    assert dispatch_event_task(str(event.pk)) == 0
    # A delivery that read the event before the first one committed gets past the dispatched check:
    Event.objects.filter(pk=event.pk).update(dispatched_at=None)
    assert dispatch_event_task(str(event.pk)) == 0
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 1
    assert replies(conversation) == ["We got your message, Ada Lovelace."]


def test_event_whose_queue_message_was_lost_is_dispatched_after_the_grace(conversation, make_workflow):
    workflow = make_workflow(
        "message.created", [{"type": "auto_reply", "config": {"text": GREETING}}], {"sender_types": ["customer"]}
    )
    customer_message(conversation)  # inside the test transaction on_commit never fires: the message is lost
    assert sweep_once()["events"] == 0  # fresh events are left to their own queue message
    assert not WorkflowRun.objects.filter(workflow=workflow).exists()
    with clock.travel(EVENT_GRACE + dt.timedelta(seconds=1)):
        assert sweep_once()["events"] >= 1
    assert WorkflowRun.objects.get(workflow=workflow).status == "succeeded"
    assert replies(conversation) == ["We got your message, Ada Lovelace."]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_do_each_run_once(contact, make_workflow):
    workflow = make_workflow(
        "message.created",
        [
            {"type": "add_tag", "config": {"tags": ["seen"]}},
            {"type": "auto_reply", "config": {"text": GREETING}},
        ],
        {"sender_types": ["customer"]},
    )
    conversations = [
        services.conversation_open(contact=contact, channel="email", subject=f"Case {n}") for n in range(30)
    ]
    with clock.travel(-EVENT_GRACE * 4):  # the messages' queue messages were lost a while ago
        for conversation in conversations:
            customer_message(conversation)
    Event.objects.exclude(type="message.created").update(dispatched_at=clock.now())
    results, errors = [], []

    def sweep() -> None:
        try:
            results.append(sweep_once())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    runs = WorkflowRun.objects.filter(workflow=workflow)
    assert runs.count() == 30 and set(runs.values_list("status", flat=True)) == {"succeeded"}
    for conversation in conversations:
        assert replies(conversation) == ["We got your message, Ada Lovelace."]
    for run in runs:
        assert step_log(run) == [("add_tag", "succeeded", 1), ("auto_reply", "succeeded", 1)]


class FlakyStep(StepType):
    """A test step standing for an outbound call: it fails transiently twice, then succeeds. Like the outbound
    steps it runs outside the run's transaction and asks for a retry with a `resume_at` instead of sleeping."""

    type = "test_flaky"
    label = "Flaky"
    schema = {"type": "object"}
    transactional = False
    delays = (dt.timedelta(seconds=30), dt.timedelta(seconds=60))
    step_run_ids: list[int] = []

    def execute(self, config, ctx):
        type(self).step_run_ids.append(ctx.step_run.pk)
        attempt = ctx.step_run.attempts
        if attempt <= len(self.delays):
            return StepOutcome(
                status="retry",
                resume_at=clock.now() + self.delays[attempt - 1],
                error=f"503 from the server (attempt {attempt})",
            )
        return StepOutcome(output={"attempt": attempt})


@pytest.fixture
def flaky():
    FlakyStep.step_run_ids = []
    with step_types.register_temporarily(FlakyStep):
        yield FlakyStep


def test_transient_failures_are_retried_by_the_sweep_at_their_time(conversation, make_workflow, flaky):
    workflow = make_workflow(
        "message.created",
        [
            {"type": "add_tag", "config": {"tags": ["seen"]}},
            {"type": flaky.type, "config": {}},
            {"type": "auto_reply", "config": {"text": GREETING}},
        ],
        {"sender_types": ["customer"]},
    )
    dispatch_and_run(message_event(customer_message(conversation)).pk)
    run = WorkflowRun.objects.get(workflow=workflow)
    first_retry_at = run.resume_at
    assert run.status == "waiting" and first_retry_at > clock.now() + dt.timedelta(seconds=25)  # scheduled, not slept
    step = run.steps.get(position=1)
    assert (step.status, step.attempts, step.error) == ("pending", 1, "503 from the server (attempt 1)")
    assert sweep_once()["runs"] == 0  # not due yet
    with clock.travel(dt.timedelta(seconds=31)):
        assert sweep_once()["runs"] == 1
        run.refresh_from_db()
        assert run.status == "waiting" and run.resume_at > clock.now() + dt.timedelta(seconds=55)  # backed off
    with clock.travel(dt.timedelta(seconds=95)):
        sweep_once()
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert step_log(run) == [("add_tag", "succeeded", 1), (flaky.type, "succeeded", 3), ("auto_reply", "succeeded", 1)]
    assert len(set(flaky.step_run_ids)) == 1 and len(flaky.step_run_ids) == 3  # one StepRun, reused by each attempt
    assert run.steps.get(position=1).output == {"attempt": 3}
    assert replies(conversation) == ["We got your message, Ada Lovelace."]


class DatabaseGoneOnceStep(StepType):
    """An internal step during which the database goes away, once (a restart, a failover)."""

    type = "database_gone_once_for_test"
    label = "Database gone once"
    calls: ClassVar[int] = 0

    def execute(self, config, ctx):
        DatabaseGoneOnceStep.calls += 1
        if DatabaseGoneOnceStep.calls == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return StepOutcome()


def test_a_run_that_lost_the_database_is_resumed_once_it_answers_not_after_its_lease(conversation, make_workflow):
    """A database error is not a step failure: the segment rolls back, the drain stops, and the lease is handed back
    as soon as the database answers, so the next sweep resumes the run instead of waiting out the lease."""
    DatabaseGoneOnceStep.calls = 0
    with step_types.register_temporarily(DatabaseGoneOnceStep):
        workflow = make_workflow(
            "message.created",
            [
                {"type": "add_tag", "config": {"tags": ["before"]}},
                {"type": DatabaseGoneOnceStep.type, "config": {}},
                {"type": "add_tag", "config": {"tags": ["after"]}},
            ],
            {"sender_types": ["customer"]},
        )
        customer_message(conversation)
        with pytest.raises(OperationalError):
            drain_events(budget_seconds=5)
        run = WorkflowRun.objects.get(workflow=workflow)
        assert (run.status, run.error, run.steps.count()) == ("running", "", 0)
        assert list(conversation.tags.values_list("name", flat=True)) == []
        assert sweep_once()["runs"] == 1  # well within the lease
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert step_log(run) == [
        ("add_tag", "succeeded", 1),
        (DatabaseGoneOnceStep.type, "succeeded", 1),
        ("add_tag", "succeeded", 1),
    ]
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["after", "before"]

"""Driving the engine from a test the way its tasks and the sweep would, with the clock injected (no sleeping)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import clock
from conversations.models import Event
from workflows.engine import runner
from workflows.engine.context import build_context
from workflows.engine.drain import dispatch_and_run
from workflows.engine.sweep import resume_due_runs
from workflows.models import WorkflowRun
from workflows.steps.registry import StepContext


def resume_after(seconds: float) -> int:
    """Let the clock pass a retry's resume time and run the sweep's due-run pickup, as the schedule would; returns
    how many runs it executed."""
    with clock.travel(dt.timedelta(seconds=seconds)):
        return resume_due_runs(clock.now())


def only_run(workflow) -> WorkflowRun:
    """The one run a workflow made (fails when there are none or several)."""
    return WorkflowRun.objects.get(workflow=workflow)


def customer_message(conversation, body: str = "Hello, anyone there?"):
    """A customer writes on the conversation (through the service, as every door does); returns the message."""
    from conversations import services

    return services.message_create(conversation=conversation, body=body, sender_type="customer")


def message_event(message):
    """The `message.created` event a message recorded."""
    from conversations.models import Event

    return Event.objects.get(type="message.created", payload__message_id=message.pk)


def replies(conversation) -> list[str]:
    """The automated replies on the conversation (what `auto_reply` steps wrote), oldest first."""
    return list(
        conversation.messages.filter(sender_type="ai").order_by("created_at", "pk").values_list("body", flat=True)
    )


def drain() -> None:
    """Dispatch every undispatched event and run what it starts, until nothing is left (chains of depth+1 too)."""
    for _ in range(20):
        pending = list(
            Event.objects.filter(dispatched_at__isnull=True).order_by("occurred_at").values_list("pk", flat=True)
        )
        if not pending:
            return
        for event_id in pending:
            dispatch_and_run(event_id)
    raise AssertionError("events keep coming: a loop the depth limit did not stop")


def step_output(workflow, position: int = 0) -> dict:
    return only_run(workflow).steps.get(position=position).output


def events_after(run: WorkflowRun, type_: str) -> list[Event]:
    """Events of `type_` on the run's conversation caused after the run's trigger (i.e. by its steps)."""
    return list(
        Event.objects.filter(conversation=run.conversation, type=type_, occurred_at__gte=run.event.occurred_at).exclude(
            pk=run.event.pk
        )
    )


def dry_run_context(conversation) -> StepContext:
    """The context a dry run gives a step: the conversation's latest event, nothing written."""
    event = Event.objects.filter(conversation=conversation).order_by("-occurred_at").first()
    return StepContext(
        data=build_context(event, {}, conversation),
        event=event,
        conversation=conversation,
        depth=event.depth + 1,
        dry_run=True,
        trigger_type=event.type,
    )


def definition_errors(*steps: dict, trigger: str = "conversation.created") -> dict[str, list[str]]:
    """The errors validate_definition reports for a workflow made of `steps` ({} when it is valid), leaving out the
    checks of the rows it names (tests/workflows/api/test_api_references.py has those): no database needed."""
    from workflows.engine.definition import DefinitionError, validate_definition

    try:
        validate_definition(
            {"name": "Check", "trigger": {"type": trigger, "config": {}}, "steps": list(steps)}, check_references=False
        )
    except DefinitionError as exc:
        return exc.errors
    return {}


def the_run(client, workflow: int) -> dict:
    """The single run of `workflow`, as `/api/workflow-runs/` shows it."""
    response = client.get("/api/workflow-runs/", {"workflow": workflow})
    assert response.status_code == 200
    runs = response.json()["results"]
    assert len(runs) == 1, runs
    return runs[0]


def segment_statements(monkeypatch) -> list[str]:
    """The statements of every segment the runner commits from now on."""
    captured: list[str] = []
    original = runner._commit_segment

    def capturing(*args, **kwargs):
        with CaptureQueriesContext(connection) as queries:
            try:
                return original(*args, **kwargs)
            finally:
                captured.extend(query["sql"] for query in queries.captured_queries)

    monkeypatch.setattr(runner, "_commit_segment", capturing)
    return captured

"""Driving the engine from a test the way its tasks and the sweep would, with the clock injected (no sleeping)."""
from __future__ import annotations

import datetime as dt

from conversations import clock
from workflows.engine.sweep import resume_due_runs
from workflows.models import WorkflowRun


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
    return list(conversation.messages.filter(sender_type="ai").order_by("created_at", "pk")
                .values_list("body", flat=True))

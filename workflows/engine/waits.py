"""Waiting runs meet their events (the `wait_for` step, docs/managers.md).

For a batch of events, one indexed query reads the waits of the batch's own conversations and event types (never
the waits of other conversations), and each is matched with the awaited trigger type's filters — the same
`TriggerType.matches` that starts workflows — before any transaction. Inside the dispatch transaction each matched
wait is claimed by deleting its row: the one delete that succeeds settles it, so an event drained twice, or an event
racing the timeout, resumes the run once. The settled run is made due now; the drain executes it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

from conversations.models import Event
from workflows.choices import RunStatus, StepStatus
from workflows.models import RunWait, StepRun, WorkflowRun
from workflows.triggers import registry as triggers


def happened(event: Event) -> dict[str, Any]:
    """The value a wait that saw its event leaves in `vars.<save_as>`."""
    return {
        "outcome": "happened",
        "event": {
            "id": str(event.pk),
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
            "payload": event.payload,
        },
    }


def match_waits(events: list[Event], context_of: Callable[[Event], dict[str, Any]]) -> list[tuple[RunWait, Event]]:
    """The waits these events settle: (wait, the first matching event), read with one indexed query."""
    keyed = [event for event in events if event.conversation_id is not None]
    if not keyed:
        return []
    waits = RunWait.objects.filter(
        conversation_id__in={event.conversation_id for event in keyed}, event_type__in={event.type for event in keyed}
    )
    by_key: defaultdict[tuple[int | None, str], list[RunWait]] = defaultdict(list)
    for wait in waits:
        by_key[(wait.conversation_id, wait.event_type)].append(wait)
    matched, taken = [], set()
    for event in sorted(keyed, key=lambda item: item.occurred_at):
        kind = triggers.trigger_type(event.type)
        for wait in by_key.get((event.conversation_id, event.type), []):
            if wait.pk in taken or event.occurred_at <= wait.since or kind is None:
                continue
            if kind.matches(wait.filter or {}, event, context_of(event)):
                matched.append((wait, event))
                taken.add(wait.pk)
    return matched


def settle_waits(matched: list[tuple[RunWait, Event]], now: dt.datetime) -> list[int]:
    """Claim each matched wait and record what happened on its run; return the runs made due. Call inside the
    dispatch transaction."""
    return [wait.run_id for wait, event in matched if _settle(wait, event, now)]


def _settle(wait: RunWait, event: Event, now: dt.datetime) -> bool:
    try:
        with transaction.atomic():
            if not RunWait.objects.filter(pk=wait.pk).delete()[0]:
                return False  # settled already: by this event drained before, or by the timeout
            run = WorkflowRun.objects.filter(pk=wait.run_id).only("status", "variables").first()
            if run is None or run.status != RunStatus.WAITING:
                if run is not None and run.status == RunStatus.RUNNING:
                    raise _TimeoutHasIt  # the runner took it at its deadline: the timeout settles it
                return False  # cancelled or finished: the wait is just gone
            outcome = happened(event)
            moved = WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.WAITING).update(
                variables={**run.variables, wait.save_as: outcome}, resume_at=now
            )
            if not moved:
                raise _TimeoutHasIt
            StepRun.objects.filter(run_id=run.pk, status=StepStatus.WAITING).update(output=outcome)
            return True
    except _TimeoutHasIt:
        return False


class _TimeoutHasIt(Exception):
    """The run left waiting meanwhile (its deadline came): roll the claim back so the timeout settles it."""

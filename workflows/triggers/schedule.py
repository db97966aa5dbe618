"""Time triggers (docs/reference/triggers.md): `schedule` (every `interval_minutes`, once per conversation while it
keeps matching a condition evaluated as a database query) and `scheduled_event.fired` (a `schedule_event` step's time
came).

Both are recorded by their `sweep` hook, which the engine's sweep calls; every claim is a conditional UPDATE, so any
number of sweeps on any number of hosts record each event once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations import payloads
from conversations.choices import EventType
from conversations.events import record_event
from conversations.models import Conversation
from workflows.choices import ScheduledEventStatus, WorkflowStatus
from workflows.engine import conditions
from workflows.models import ScheduledEvent, ScheduleMatch, Workflow
from workflows.triggers.registry import STRING_LIST, TriggerType, payload_one_of, schema, trigger_types

BATCH = 200


def fire_scheduled_events(now: dt.datetime) -> int:
    """Turn due, uncleared scheduled events into `scheduled_event.fired` events (each exactly once)."""
    fired = 0
    for scheduled in ScheduledEvent.objects.filter(status=ScheduledEventStatus.PENDING, fire_at__lte=now)[:BATCH]:
        with transaction.atomic():
            claimed = ScheduledEvent.objects.filter(pk=scheduled.pk, status=ScheduledEventStatus.PENDING).update(
                status=ScheduledEventStatus.FIRED, fired_at=now
            )
            if claimed:
                record_event(
                    type=EventType.SCHEDULED_EVENT_FIRED,
                    conversation=scheduled.conversation,
                    payload=payloads.scheduled_event_fired(scheduled=scheduled),
                    depth=scheduled.depth,
                )
                fired += 1
    return fired


def run_schedule_triggers(now: dt.datetime) -> int:
    """For each due `schedule` workflow: fire once per newly matching conversation; forget ones that stopped."""
    fired = 0
    due = Workflow.objects.filter(
        trigger_type=EventType.SCHEDULE, status=WorkflowStatus.ACTIVE, next_schedule_at__lte=now
    )
    for workflow in due:
        interval = dt.timedelta(minutes=workflow.trigger_config.get("interval_minutes", 60))
        claimed = Workflow.objects.filter(pk=workflow.pk, next_schedule_at=workflow.next_schedule_at).update(
            next_schedule_at=now + interval
        )
        if claimed:
            fired += _fire_schedule(workflow, now)
    return fired


def _fire_schedule(workflow: Workflow, now: dt.datetime) -> int:
    query = conditions.to_q(workflow.trigger_config.get("match") or {}, now)
    matching = set(Conversation.objects.filter(query).values_list("pk", flat=True).distinct())
    already = set(ScheduleMatch.objects.filter(workflow=workflow).values_list("conversation_id", flat=True))
    ScheduleMatch.objects.filter(workflow=workflow, conversation_id__in=already - matching).delete()
    new = sorted(matching - already)
    for conversation in Conversation.objects.filter(pk__in=new).select_related("contact"):
        with transaction.atomic():
            ScheduleMatch.objects.create(workflow=workflow, conversation=conversation)
            record_event(
                type=EventType.SCHEDULE, conversation=conversation, payload=payloads.schedule_fired(workflow=workflow)
            )
    return len(new)


def _schedule_errors(config: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"match.{key}" if key else "match", message)
        for key, message in conditions.validate(config.get("match") or {}, query_only=True)
    ]


trigger_types.register(
    TriggerType(
        EventType.SCHEDULE,
        _("Schedule"),
        schema(
            {"interval_minutes": {"type": "integer", "minimum": 1, "maximum": 525600}, "match": {"type": "object"}},
            required=("interval_minutes",),
        ),
        validate=_schedule_errors,
        targeted=True,
        sweep=run_schedule_triggers,
    ),
    TriggerType(
        EventType.SCHEDULED_EVENT_FIRED,
        _("Scheduled event fired"),
        schema({"names": STRING_LIST}),
        (payload_one_of("names", "name"),),
        sweep=fire_scheduled_events,
    ),
)

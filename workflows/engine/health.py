"""Health of the automation: how long the oldest piece of due work has been waiting (`manage.py helpdesk_health`).

Due work is what the workers or the sweep should already have done: an event nobody dispatched, a run that is
queued or due after a wait or retry, a run whose worker died (expired lease), a scheduled event or `schedule`
trigger past its time, an SLA clock past its warning point or due time. The database is the source of truth, so
this answer holds whatever the broker, the cluster or the supervisor look like: when it keeps growing, nothing is
working. A liveness probe (systemd, Kubernetes) restarts the worker when it exceeds a threshold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from conversations import clock
from conversations.choices import EventType
from conversations.models import Event
from sla import sweep as sla_sweep
from workflows.choices import RunStatus, ScheduledEventStatus, WorkflowStatus
from workflows.models import ScheduledEvent, Workflow, WorkflowRun


@dataclass(frozen=True)
class DueWork:
    """One piece of due work: what it is (for the message) and since when it has been due."""

    description: str
    due_since: dt.datetime

    def age_seconds(self, now: dt.datetime) -> float:
        return max(0.0, (now - self.due_since).total_seconds())


def _first(queryset: QuerySet[Any], field: str) -> dt.datetime | None:
    first: dt.datetime | None = queryset.order_by(field).values_list(field, flat=True).first()
    return first


def _candidates(now: dt.datetime) -> list[DueWork]:
    """The oldest due item of each kind, one index seek each."""
    found = [
        ("an undispatched event", _first(Event.objects.filter(dispatched_at__isnull=True), "occurred_at")),
        (
            "a queued or due run",
            _first(
                WorkflowRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.WAITING], resume_at__lte=now),
                "resume_at",
            ),
        ),
        (
            "a run whose worker died (lease expired)",
            _first(WorkflowRun.objects.filter(status=RunStatus.RUNNING, lease_until__lt=now), "lease_until"),
        ),
        (
            "a scheduled event",
            _first(ScheduledEvent.objects.filter(status=ScheduledEventStatus.PENDING, fire_at__lte=now), "fire_at"),
        ),
        (
            "a schedule trigger",
            _first(
                Workflow.objects.filter(
                    trigger_type=EventType.SCHEDULE, status=WorkflowStatus.ACTIVE, next_schedule_at__lte=now
                ),
                "next_schedule_at",
            ),
        ),
    ]
    sla_due = sla_sweep.next_due_at()
    found.append(("an SLA warning or breach", sla_due if sla_due and sla_due <= now else None))
    return [DueWork(description, since) for description, since in found if since is not None]


def oldest_due_work(now: dt.datetime | None = None) -> DueWork | None:
    """The piece of due work that has waited longest, or None when nothing is due."""
    return min(_candidates(now or clock.now()), key=lambda work: work.due_since, default=None)


@dataclass(frozen=True)
class HealthVerdict:
    healthy: bool
    message: str


def check_health(max_age_seconds: float, now: dt.datetime | None = None) -> HealthVerdict:
    """Healthy unless some due work has waited longer than `max_age_seconds` (then the workers are stuck or gone)."""
    now = now or clock.now()
    oldest = oldest_due_work(now)
    if oldest is None:
        return HealthVerdict(True, "OK: no work is due.")
    age = oldest.age_seconds(now)
    if age > max_age_seconds:
        return HealthVerdict(
            False,
            f"UNHEALTHY: {oldest.description} has been due for {age:.0f} s "
            f"(limit {max_age_seconds:g} s): the workers are not making progress.",
        )
    return HealthVerdict(
        True, f"OK: the oldest due work ({oldest.description}) has waited {age:.0f} s (limit {max_age_seconds:g} s)."
    )

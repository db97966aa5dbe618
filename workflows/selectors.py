"""Read-side figures about workflows and their runs (a selector module): per-workflow stats for lists, and the
analytics report of SPEC §8 (totals, success and failure rates, average duration, daily trend, most triggered).

The API and the admin analytics page both read from here, so the numbers never disagree. Every figure is an
aggregate computed by the database over an indexed time window; nothing here loads runs one by one.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from workflows.choices import FINISHED_RUN_STATUSES, RunStatus, WorkflowStatus
from workflows.models import Workflow, WorkflowRun

MOST_TRIGGERED_LIMIT = 10


def _rate(part: int, whole: int) -> float | None:
    """A fraction in [0, 1] rounded to 4 places; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def with_stats(workflows: QuerySet[Workflow]) -> QuerySet[Workflow]:
    """Annotate each workflow with its run counts and its last run (one query for any number of workflows)."""
    last_run = WorkflowRun.objects.filter(workflow=OuterRef("pk")).order_by("-created_at", "-id")
    return workflows.annotate(
        stat_executions=Count("runs"),
        stat_succeeded=Count("runs", filter=Q(runs__status=RunStatus.SUCCEEDED)),
        stat_failed=Count("runs", filter=Q(runs__status=RunStatus.FAILED)),
        stat_finished=Count("runs", filter=Q(runs__status__in=FINISHED_RUN_STATUSES)),
        stat_last_run_at=Max("runs__created_at"),
        stat_last_run_status=Subquery(last_run.values("status")[:1]),
    )


def workflow_stats(workflow: Workflow) -> dict[str, Any]:
    """Executions, success and failure rates (over finished runs) and the last run of one workflow.

    Uses the annotations of `with_stats` when present, else computes them (a workflow just saved).
    """
    if not hasattr(workflow, "stat_executions"):
        workflow = with_stats(Workflow.objects.filter(pk=workflow.pk)).get()
    return {
        "executions": workflow.stat_executions,
        "succeeded": workflow.stat_succeeded,
        "failed": workflow.stat_failed,
        "success_rate": _rate(workflow.stat_succeeded, workflow.stat_finished),
        "failure_rate": _rate(workflow.stat_failed, workflow.stat_finished),
        "last_run_at": workflow.stat_last_run_at.isoformat() if workflow.stat_last_run_at else None,
        "last_run_status": workflow.stat_last_run_status,
    }


def _window_bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The aware datetimes from the start of `since` to the end of `until`, in the project's timezone."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _daily_trend(runs: QuerySet[WorkflowRun], since: dt.date, until: dt.date) -> list[dict[str, Any]]:
    """One row per day of the window (days without runs included, with zeros)."""
    rows = {
        row["day"]: row for row in runs.annotate(day=TruncDate("created_at")).values("day").annotate(
            executions=Count("id"),
            succeeded=Count("id", filter=Q(status=RunStatus.SUCCEEDED)),
            failed=Count("id", filter=Q(status=RunStatus.FAILED)),
        )
    }
    days = (since + dt.timedelta(days=offset) for offset in range((until - since).days + 1))
    return [
        {"date": day.isoformat(), "executions": rows.get(day, {}).get("executions", 0),
         "succeeded": rows.get(day, {}).get("succeeded", 0), "failed": rows.get(day, {}).get("failed", 0)}
        for day in days
    ]


def _most_triggered(runs: QuerySet[WorkflowRun]) -> list[dict[str, Any]]:
    top = (runs.values("workflow_id", "workflow__name").annotate(executions=Count("id"))
           .order_by("-executions", "workflow_id")[:MOST_TRIGGERED_LIMIT])
    return [{"workflow": row["workflow_id"], "name": row["workflow__name"], "executions": row["executions"]}
            for row in top]


def _average_duration_seconds(runs: QuerySet[WorkflowRun]) -> float | None:
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    average = runs.filter(status__in=FINISHED_RUN_STATUSES, started_at__isnull=False, finished_at__isnull=False
                          ).aggregate(average=Avg(duration))["average"]
    if average is None:
        return None
    seconds = average.total_seconds() if isinstance(average, dt.timedelta) else float(average) / 1_000_000
    return round(seconds, 3)


def workflow_analytics(*, since: dt.date, until: dt.date) -> dict[str, Any]:
    """The workflow analytics report over runs created from `since` to `until` (both days included).

    Rates are fractions of the finished runs of the window (succeeded, failed, stopped by a condition, cancelled);
    the average duration is over finished runs that started.
    """
    start, end = _window_bounds(since, until)
    runs = WorkflowRun.objects.filter(created_at__gte=start, created_at__lt=end)
    counts = runs.aggregate(
        executions=Count("id"),
        succeeded=Count("id", filter=Q(status=RunStatus.SUCCEEDED)),
        failed=Count("id", filter=Q(status=RunStatus.FAILED)),
        finished=Count("id", filter=Q(status__in=FINISHED_RUN_STATUSES)),
    )
    workflows = Workflow.objects.aggregate(total=Count("id"),
                                           active=Count("id", filter=Q(status=WorkflowStatus.ACTIVE)))
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "totals": {"workflows": workflows["total"], "active": workflows["active"], "executions": counts["executions"],
                   "succeeded": counts["succeeded"], "failed": counts["failed"]},
        "success_rate": _rate(counts["succeeded"], counts["finished"]),
        "failure_rate": _rate(counts["failed"], counts["finished"]),
        "average_duration_seconds": _average_duration_seconds(runs),
        "daily": _daily_trend(runs, since, until),
        "most_triggered": _most_triggered(runs),
    }

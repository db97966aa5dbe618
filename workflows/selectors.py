"""Read-side figures about workflows and their runs (a selector module): per-workflow stats for lists, the summary
bar, and the analytics report of docs/api.md (totals, success and failure rates, average duration, daily trend, most
triggered).

One definition of success everywhere (docs/managers.md): success rate = succeeded / (succeeded + failed). Runs stopped
by a condition "didn't match" and cancelled runs are counted apart, so a workflow that filters by condition is not
shown as broken. The admin list, summary bar, analytics page and the API all take their rates and their printed
percentages from `outcome_figures` and `percent` here, so they cannot disagree. Every figure is an aggregate
computed by the database; nothing here loads runs one by one.
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
# The outcome counts every figure is made of: name -> the run status it counts (None: every run).
OUTCOMES = {
    "executions": None,
    "succeeded": RunStatus.SUCCEEDED,
    "failed": RunStatus.FAILED,
    "didnt_match": RunStatus.STOPPED,
    "cancelled": RunStatus.CANCELLED,
}


def outcome_counts(prefix: str = "") -> dict[str, Count]:
    """COUNT expressions for each outcome, over runs reached through `prefix` (e.g. "runs__" from a workflow)."""
    return {
        name: Count(f"{prefix}id", filter=Q(**{f"{prefix}status": status}) if status else None)
        for name, status in OUTCOMES.items()
    }


def rate(part: int, succeeded: int, failed: int) -> float | None:
    """`part` over the runs that decided (succeeded + failed), in [0, 1] to 4 places; None when none decided."""
    decided = succeeded + failed
    return round(part / decided, 4) if decided else None


def outcome_figures(counts: dict[str, int]) -> dict[str, Any]:
    """The outcome counts plus the success and failure rates, by the one definition of success."""
    figures = {name: counts.get(name) or 0 for name in OUTCOMES}
    succeeded, failed = figures["succeeded"], figures["failed"]
    return {
        **figures,
        "success_rate": rate(succeeded, succeeded, failed),
        "failure_rate": rate(failed, succeeded, failed),
    }


def percent(fraction: float | None) -> str:
    """A rate as every page prints it ("66.7%"), or "–" when there is none."""
    return "–" if fraction is None else f"{100 * fraction:.1f}%"


def with_stats(workflows: QuerySet[Workflow]) -> QuerySet[Workflow]:
    """Annotate each workflow with its outcome counts and its last run (one query for any number of workflows)."""
    last_run = WorkflowRun.objects.filter(workflow=OuterRef("pk")).order_by("-created_at", "-id")
    return workflows.annotate(
        **{f"stat_{name}": expression for name, expression in outcome_counts("runs__").items()},
        stat_last_run_at=Max("runs__created_at"),
        stat_last_run_status=Subquery(last_run.values("status")[:1]),
    )


def workflow_stats(workflow: Workflow) -> dict[str, Any]:
    """Outcome counts, success and failure rates and the last run of one workflow.

    Uses the annotations of `with_stats` when present, else computes them (a workflow just saved).
    """
    if not hasattr(workflow, "stat_executions"):
        workflow = with_stats(Workflow.objects.filter(pk=workflow.pk)).get()
    counts = {name: getattr(workflow, f"stat_{name}") for name in OUTCOMES}
    return {
        **outcome_figures(counts),
        "last_run_at": workflow.stat_last_run_at.isoformat() if workflow.stat_last_run_at else None,
        "last_run_status": workflow.stat_last_run_status,
    }


def summary() -> dict[str, Any]:
    """The summary bar above the workflow list: workflows, active ones and the outcomes of all runs (two queries)."""
    workflows = Workflow.objects.aggregate(
        workflows=Count("pk"), active=Count("pk", filter=Q(status=WorkflowStatus.ACTIVE))
    )
    return {**workflows, **outcome_figures(WorkflowRun.objects.aggregate(**outcome_counts()))}


def _window_bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The aware datetimes from the start of `since` to the end of `until`, in the project's timezone."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _daily_trend(runs: QuerySet[WorkflowRun], since: dt.date, until: dt.date) -> list[dict[str, Any]]:
    """One row per day of the window (days without runs included, with zeros)."""
    rows = {
        row["day"]: row
        for row in runs.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            executions=Count("id"),
            succeeded=Count("id", filter=Q(status=RunStatus.SUCCEEDED)),
            failed=Count("id", filter=Q(status=RunStatus.FAILED)),
        )
    }
    days = (since + dt.timedelta(days=offset) for offset in range((until - since).days + 1))
    return [
        {
            "date": day.isoformat(),
            "executions": rows.get(day, {}).get("executions", 0),
            "succeeded": rows.get(day, {}).get("succeeded", 0),
            "failed": rows.get(day, {}).get("failed", 0),
        }
        for day in days
    ]


def _most_triggered(runs: QuerySet[WorkflowRun]) -> list[dict[str, Any]]:
    top = (
        runs.values("workflow_id", "workflow__name")
        .annotate(executions=Count("id"))
        .order_by("-executions", "workflow_id")[:MOST_TRIGGERED_LIMIT]
    )
    return [
        {"workflow": row["workflow_id"], "name": row["workflow__name"], "executions": row["executions"]} for row in top
    ]


def _average_duration_seconds(runs: QuerySet[WorkflowRun]) -> float | None:
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    average = runs.filter(
        status__in=FINISHED_RUN_STATUSES, started_at__isnull=False, finished_at__isnull=False
    ).aggregate(average=Avg(duration))["average"]
    if average is None:
        return None
    seconds = average.total_seconds() if isinstance(average, dt.timedelta) else float(average) / 1_000_000
    return round(seconds, 3)


def workflow_analytics(*, since: dt.date, until: dt.date) -> dict[str, Any]:
    """The workflow analytics report over runs created from `since` to `until` (both days included).

    Rates follow the one definition of success (`outcome_figures`); the average duration is over finished runs
    that started.
    """
    start, end = _window_bounds(since, until)
    runs = WorkflowRun.objects.filter(created_at__gte=start, created_at__lt=end)
    figures = outcome_figures(runs.aggregate(**outcome_counts()))
    workflows = Workflow.objects.aggregate(
        workflows=Count("id"), active=Count("id", filter=Q(status=WorkflowStatus.ACTIVE))
    )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "totals": {**workflows, **{name: figures[name] for name in OUTCOMES}},
        "success_rate": figures["success_rate"],
        "failure_rate": figures["failure_rate"],
        "average_duration_seconds": _average_duration_seconds(runs),
        "daily": _daily_trend(runs, since, until),
        "most_triggered": _most_triggered(runs),
    }

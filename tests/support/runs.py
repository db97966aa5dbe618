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

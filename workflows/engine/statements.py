"""The runner's statements, built once per process from the models (`conversations.statements`): the step rows a
segment inserts and the run-row UPDATE that ends it. The ORM stays the source of the schema (tests check the
compiled SQL against the models' fields)."""

from __future__ import annotations

from conversations.statements import Insert, Statement
from workflows.choices import RunStatus
from workflows.models import StepRun, WorkflowRun

STEP_ROWS = Insert(StepRun)
RUN_ROWS = Insert(WorkflowRun)  # the runs a dispatched batch starts

# The end of a segment: the run's new state, only while it is still running (a cancel that landed meanwhile wins).
SEGMENT_FIELDS = ("status", "position", "variables", "error", "finished_at", "resume_at", "lease_until")
RUN_SEGMENT_END = Statement(
    WorkflowRun,
    lambda slot: (
        WorkflowRun.objects.filter(pk=slot("pk", "id"), status=RunStatus.RUNNING),
        {name: slot(name, name) for name in SEGMENT_FIELDS},
    ),
    update=True,
)

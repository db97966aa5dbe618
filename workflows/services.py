"""Every change to workflows and runs: save a definition (new version), activate, duplicate, import, run, retry,
cancel. The API, the admin and the tasks all call these.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from conversations import clock
from conversations.choices import EventType
from conversations.events import record_event
from conversations.models import Conversation
from workflows.choices import FINISHED_RUN_STATUSES, RunStatus, StepStatus, WorkflowStatus
from workflows.definition import DefinitionError, validate_definition
from workflows.models import Step, StepRun, Workflow, WorkflowRun, WorkflowVersion


def workflow_definition(workflow: Workflow) -> dict[str, Any]:
    """The §4 body of a workflow as it is now."""
    return {
        "name": workflow.name,
        "description": workflow.description,
        "status": workflow.status,
        "trigger": {"type": workflow.trigger_type, "config": workflow.trigger_config},
        "steps": [
            {"type": step.type, "config": step.config, **({"on_false": step.on_false} if step.on_false else {})}
            for step in workflow.steps.all()
        ],
    }


def _write_definition(workflow: Workflow, definition: dict) -> None:
    workflow.name = definition["name"]
    workflow.description = definition["description"]
    workflow.status = definition["status"]
    workflow.trigger_type = definition["trigger"]["type"]
    workflow.trigger_config = definition["trigger"]["config"]
    if workflow.trigger_type == EventType.SCHEDULE and workflow.status == WorkflowStatus.ACTIVE:
        workflow.next_schedule_at = workflow.next_schedule_at or clock.now()
    workflow.save()
    workflow.steps.all().delete()
    Step.objects.bulk_create([
        Step(workflow=workflow, position=index, type=step["type"], config=step["config"],
             on_false=step.get("on_false", ""))
        for index, step in enumerate(definition["steps"])
    ])
    WorkflowVersion.objects.create(workflow=workflow, version=workflow.version, definition=definition)


def workflow_create(*, definition: dict, created_by=None) -> Workflow:
    """Validate and save a new workflow at version 1."""
    cleaned = validate_definition(definition)
    with transaction.atomic():
        workflow = Workflow(version=1, created_by=created_by)
        _write_definition(workflow, cleaned)
    return workflow


def workflow_update(*, workflow: Workflow, definition: dict) -> Workflow:
    """Validate and save a new definition; the version goes up and the previous one is kept."""
    cleaned = validate_definition(definition)
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
        workflow.version += 1
        _write_definition(workflow, cleaned)
    return workflow


def workflow_set_status(*, workflow: Workflow, status: str) -> Workflow:
    """Activate, deactivate or return to draft (a new version, like any save)."""
    if status not in WorkflowStatus.values:
        raise ValidationError({"status": f"Use one of: {', '.join(WorkflowStatus.values)}."})
    definition = workflow_definition(workflow)
    if definition["status"] == status:
        return workflow
    return workflow_update(workflow=workflow, definition={**definition, "status": status})


def workflow_duplicate(*, workflow: Workflow, created_by=None) -> Workflow:
    """A draft copy named "<name> (copy)"."""
    definition = workflow_definition(workflow)
    name = f"{definition['name']} (copy)"[:200]
    return workflow_create(definition={**definition, "name": name, "status": WorkflowStatus.DRAFT},
                           created_by=created_by)


def workflow_delete(*, workflow: Workflow) -> None:
    """Delete a workflow with its versions and run history."""
    workflow.delete()


def definition_for_version(run: WorkflowRun) -> dict[str, Any]:
    """The definition a run executes: the version it started with, even if the workflow changed since."""
    saved = WorkflowVersion.objects.filter(workflow_id=run.workflow_id, version=run.version).first()
    return saved.definition if saved else workflow_definition(run.workflow)


def workflow_run_manual(*, workflow: Workflow, conversation: Conversation, inputs: dict | None = None,
                        actor=None) -> WorkflowRun:
    """Start a `manual` workflow on a conversation (a person or an AI agent decided): records a `manual` event."""
    if workflow.trigger_type != EventType.MANUAL:
        raise ValidationError({"workflow": "Only workflows with the manual trigger can be run by hand."})
    if workflow.status != WorkflowStatus.ACTIVE:
        raise ValidationError({"workflow": "Activate the workflow first (drafts only run as tests)."})
    from workflows.dispatcher import dispatch_event

    with transaction.atomic():
        event = record_event(
            type=EventType.MANUAL, conversation=conversation,
            payload={"workflow_id": workflow.pk, "inputs": inputs or {}, "actor_id": getattr(actor, "pk", None)},
        )
    for run_id in dispatch_event(event.pk):  # the event's own task may find it dispatched already: wake the run
        transaction.on_commit(lambda run_id=run_id: enqueue_run(run_id))
    return WorkflowRun.objects.get(workflow=workflow, event=event)


def run_retry(*, run: WorkflowRun) -> WorkflowRun:
    """Re-run a failed run from its failed step; the steps that succeeded are not executed again."""
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.FAILED:
            raise ValidationError({"status": "Only failed runs can be retried."})
        StepRun.objects.filter(run=run, status=StepStatus.FAILED).update(status=StepStatus.PENDING, error="")
        run.status, run.error, run.finished_at, run.resume_at = RunStatus.QUEUED, "", None, clock.now()
        run.save(update_fields=["status", "error", "finished_at", "resume_at"])
    transaction.on_commit(lambda: enqueue_run(run.pk))
    return run


def run_cancel(*, run: WorkflowRun) -> WorkflowRun:
    """Stop a run that has not finished; a waiting run never resumes."""
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if run.status in FINISHED_RUN_STATUSES:
            raise ValidationError({"status": f"The run has already finished ({run.status})."})
        run.status, run.finished_at, run.resume_at = RunStatus.CANCELLED, clock.now(), None
        run.save(update_fields=["status", "finished_at", "resume_at"])
    return run


def enqueue_run(run_id: int) -> None:
    """Wake a worker for one run; if the queue drops it, the sweep finds the run by its resume time."""
    from django_q.tasks import async_task

    async_task("workflows.tasks.execute_run_task", run_id, group="runs")


__all__ = ["DefinitionError"]

"""Every change to workflows and runs: save a definition (new version), activate, duplicate, import, run, retry,
cancel. The API, the admin and the tasks all call these.

Write-only step config keys (a webhook `secret`) never leave through a read: `workflow_definition` masks them unless
asked to reveal the values the latest save set (its own response, once) or all of them (server-side copies only).
A save that posts the mask back, or leaves the key out, keeps the value of the same step in the previous version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, prefetch_related_objects
from django.utils.translation import gettext as _

from conversations import clock, payloads
from conversations.choices import EventType
from conversations.events import record_event
from conversations.models import Conversation
from workflows.choices import FINISHED_RUN_STATUSES, RunStatus, StepStatus, WorkflowStatus
from workflows.engine import references
from workflows.engine.definition import (
    DefinitionError,
    mask_write_only,
    new_write_only_keys,
    open_write_only,
    prepare_steps,
    seal_write_only,
    validate_definition,
)
from workflows.engine.dispatcher import dispatch_event
from workflows.engine.program import flatten
from workflows.engine.versions import stored_definition
from workflows.integrations import delivery as health
from workflows.models import Endpoint, RunWait, Step, StepRun, Workflow, WorkflowRun, WorkflowVersion

Reveal = Literal["none", "new", "all"]


def workflow_definition(workflow: Workflow, *, reveal: Reveal = "none") -> dict[str, Any]:
    """The workflow definition of a workflow as it is now. Write-only values are masked; `reveal="new"` shows those the
    latest save set (for that save's response only), `reveal="all"` is for server-side use (run, duplicate), never
    output."""
    stored = stored_definition(workflow)
    if reveal == "all":
        return stored
    shown = mask_write_only(stored)
    if reveal == "new":
        for position, key in new_write_only_keys(stored, _previous_definition(workflow)):
            shown["steps"][position]["config"][key] = stored["steps"][position]["config"][key]
    return shown


def workflow_new_write_only(workflow: Workflow) -> list[dict[str, Any]]:
    """The write-only values the latest save set (generated or changed), to show once: position, type, key, value."""
    stored = stored_definition(workflow)
    return [
        {
            "position": position,
            "type": stored["steps"][position]["type"],
            "key": key,
            "value": stored["steps"][position]["config"][key],
        }
        for position, key in new_write_only_keys(stored, _previous_definition(workflow))
    ]


def _previous_definition(workflow: Workflow) -> dict[str, Any] | None:
    """The definition saved before the current version (None for a new workflow)."""
    previous = (
        WorkflowVersion.objects.filter(workflow=workflow, version__lt=workflow.version)
        .order_by("-version")
        .values_list("definition", flat=True)
        .first()
    )
    return open_write_only(previous) if previous is not None else None


def _write_definition(workflow: Workflow, definition: dict) -> None:
    definition = seal_write_only(definition)  # webhook secrets are stored encrypted, like integration secrets
    workflow.name = definition["name"]
    workflow.description = definition["description"]
    workflow.status = definition["status"]
    if definition.get("order") is None:  # a new workflow goes after the others ("default by creation")
        definition = {**definition, "order": workflow.order if workflow.pk else _next_order()}
    workflow.order = definition["order"]
    workflow.stop_processing = definition.get("stop_processing", False)
    workflow.trigger_type = definition["trigger"]["type"]
    workflow.trigger_config = definition["trigger"]["config"]
    if workflow.trigger_type == EventType.SCHEDULE and workflow.status == WorkflowStatus.ACTIVE:
        workflow.next_schedule_at = workflow.next_schedule_at or clock.now()
    workflow.save()
    workflow.steps.all().delete()
    Step.objects.bulk_create(
        [
            Step(
                workflow=workflow,
                position=index,
                type=step["type"],
                config=step["config"],
                on_false=step.get("on_false", ""),
            )
            for index, step in enumerate(definition["steps"])
        ]
    )
    WorkflowVersion.objects.create(workflow=workflow, version=workflow.version, definition=definition)


def _next_order() -> int:
    return (Workflow.objects.aggregate(last=Max("order"))["last"] or 0) + 1


def workflow_create(
    *, definition: dict, created_by=None, tolerated: frozenset[tuple[str, str]] = frozenset()
) -> Workflow:
    """Validate and save a new workflow at version 1 (a write-only key posted as the mask, e.g. in an imported
    export, has nothing to keep: a webhook gets a new secret). `tolerated` references may be missing in a draft (a
    gallery template's integration, a copy of a broken workflow): they show as the workflow's problems."""
    cleaned = prepare_steps(validate_definition(definition, tolerated=tolerated))
    with transaction.atomic():
        workflow = Workflow(version=1, created_by=created_by)
        _write_definition(workflow, cleaned)
    return workflow


def workflow_update(*, workflow: Workflow, definition: dict) -> Workflow:
    """Validate and save a new definition; the version goes up and the previous one is kept. Write-only keys posted
    as the mask (or left out) keep the value of the same step in the previous version."""
    tolerated = references.tokens(workflow_definition(workflow, reveal="all"))
    cleaned = validate_definition(definition, tolerated=tolerated)
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
        cleaned = prepare_steps(cleaned, stored_definition(workflow)["steps"])
        workflow.version += 1
        _write_definition(workflow, cleaned)
    return workflow


def workflow_set_status(*, workflow: Workflow, status: str) -> Workflow:
    """Activate, deactivate or return to draft (a new version, like any save)."""
    if status not in WorkflowStatus.values:
        raise ValidationError({"status": _("Use one of: %(choices)s.") % {"choices": ", ".join(WorkflowStatus.values)}})
    definition = workflow_definition(workflow, reveal="all")
    if definition["status"] == status:
        return workflow
    try:
        return workflow_update(workflow=workflow, definition={**definition, "status": status})
    except DefinitionError as exc:  # e.g. activating a workflow whose team was deleted: fix the step first
        raise ValidationError(exc.errors) from exc


def workflow_restore_version(*, workflow: Workflow, version: int) -> Workflow:
    """Save an earlier version's definition as a new version (history is never rewritten). The workflow keeps its
    current status, so restoring never switches it on or off; the old definition is validated like any save. The
    version's `order` and `stop_processing` are restored with it (the compare shows both); a version saved before
    they were recorded keeps the current ones rather than falling back to defaults."""
    saved = WorkflowVersion.objects.filter(workflow=workflow, version=version).first()
    if saved is None:
        raise ValidationError(
            {"version": _("Version %(version)s of this workflow does not exist.") % {"version": version}}
        )
    definition = open_write_only(saved.definition)
    order = definition.get("order")
    stop = definition.get("stop_processing")
    return workflow_update(
        workflow=workflow,
        definition={
            **definition,
            "status": workflow.status,
            "order": workflow.order if order is None else order,
            "stop_processing": workflow.stop_processing if stop is None else stop,
        },
    )


def workflow_duplicate(*, workflow: Workflow, created_by=None) -> Workflow:
    """A draft copy named "<name> (copy)", write-only values copied server-side (the copy signs as the original)."""
    definition = workflow_definition(workflow, reveal="all")
    name = f"{definition['name']} (copy)"[:200]
    return workflow_create(
        definition={**definition, "name": name, "status": WorkflowStatus.DRAFT, "order": None},
        created_by=created_by,
        tolerated=references.tokens(definition),
    )


def workflow_problems(workflows: list[Workflow]) -> dict[int, list[dict[str, str]]]:
    """What is broken in each workflow (a reference deleted since it was saved), by id: one query per reference
    kind for the whole list (and one for the steps, unless they were prefetched)."""
    prefetch_related_objects(workflows, "steps")
    definitions = [stored_definition(workflow) for workflow in workflows]
    return dict(zip([w.pk for w in workflows], references.problems_of_many(definitions)))


def workflow_reorder(*, workflow_ids: list[int]) -> list[Workflow]:
    """Put these workflows in this order (the admin's drag and drop), keeping their places among the others: they
    share out the order values they held (renumbered from the lowest when some were equal). Each one whose order
    changes is saved as a new version, so explain knows the order any event was dispatched in."""
    workflows = {workflow.pk: workflow for workflow in Workflow.objects.filter(pk__in=workflow_ids)}
    if len(workflows) != len(set(workflow_ids)) or len(workflow_ids) != len(set(workflow_ids)):
        raise ValidationError({"workflows": _("Give each existing workflow once.")})
    slots = sorted(workflow.order for workflow in workflows.values())
    if len(set(slots)) != len(slots):
        slots = [slots[0] + index for index in range(len(slots))]
    with transaction.atomic():
        for workflow_id, order in zip(workflow_ids, slots):
            workflow = workflows[workflow_id]
            if workflow.order != order:
                definition = workflow_definition(workflow, reveal="all")
                workflows[workflow_id] = workflow_update(workflow=workflow, definition={**definition, "order": order})
    return [workflows[workflow_id] for workflow_id in workflow_ids]


def workflow_delete(*, workflow: Workflow) -> None:
    """Delete a workflow with its versions and run history."""
    workflow.delete()


def workflow_run_manual(
    *, workflow: Workflow, conversation: Conversation, inputs: dict | None = None, actor=None
) -> WorkflowRun:
    """Start a `manual` workflow on a conversation (a person or an AI agent decided): records a `manual` event."""
    if workflow.trigger_type != EventType.MANUAL:
        raise ValidationError({"workflow": _("Only workflows with the manual trigger can be run by hand.")})
    if workflow.status != WorkflowStatus.ACTIVE:
        raise ValidationError({"workflow": _("Activate the workflow first (drafts only run as tests).")})
    with transaction.atomic():
        event = record_event(
            type=EventType.MANUAL,
            conversation=conversation,
            payload=payloads.manual_run(workflow=workflow, inputs=inputs, actor=actor),
        )
    for run_id in dispatch_event(event.pk):  # the event's own task may find it dispatched already: wake the run
        transaction.on_commit(lambda run_id=run_id: enqueue_run(run_id))
    return WorkflowRun.objects.get(workflow=workflow, event=event)


RetryVersion = Literal["original", "current"]
RETRY_VERSIONS = ("original", "current")


def run_retry(*, run: WorkflowRun, version: RetryVersion = "original") -> WorkflowRun:
    """Re-run a failed run from its failed step; the steps that succeeded are not executed again. It runs on the
    version it ran (`original`, the default) or on the workflow's current version (`current`: a fixed step is
    picked up, from the same position); the run records which in `retried_on` and `version`."""
    if version not in RETRY_VERSIONS:
        raise ValidationError({"version": _("Use one of: %(choices)s.") % {"choices": ", ".join(RETRY_VERSIONS)}})
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().select_related("workflow").get(pk=run.pk)
        if run.status != RunStatus.FAILED:
            raise ValidationError({"status": _("Only failed runs can be retried.")})
        if version == "current" and run.workflow.version != run.version:
            _move_to_current_version(run)
        # A manual retry gets a fresh set of attempts (and backoff) for the failed step.
        StepRun.objects.filter(run=run, status=StepStatus.FAILED).update(
            status=StepStatus.PENDING, error="", attempts=0
        )
        run.status, run.error, run.finished_at, run.resume_at = RunStatus.QUEUED, "", None, clock.now()
        run.retried_on = version
        run.save(
            update_fields=["status", "error", "finished_at", "resume_at", "retried_on", "version", "first_version"]
        )
    transaction.on_commit(lambda: enqueue_run(run.pk))
    return run


def _move_to_current_version(run: WorkflowRun) -> None:
    """Point a failed run at its workflow's current version, from the same position: the results of the steps
    before it stay, the failed step's result is dropped (it may now be another step type)."""
    steps = flatten(workflow_definition(run.workflow, reveal="all")["steps"])
    if run.position >= len(steps):
        raise ValidationError(
            {
                "version": _(
                    "The current version (v%(version)s) has %(steps)s step(s); the run failed at "
                    "step %(failed)s. Retry on the version it ran."
                )
                % {"version": run.workflow.version, "steps": len(steps), "failed": run.position + 1}
            }
        )
    StepRun.objects.filter(run=run, position__gte=run.position).delete()
    run.first_version = run.first_version or run.version
    run.version = run.workflow.version


def run_cancel(*, run: WorkflowRun) -> WorkflowRun:
    """Stop a run that has not finished; a waiting run never resumes."""
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if run.status in FINISHED_RUN_STATUSES:
            raise ValidationError({"status": _("The run has already finished (%(status)s).") % {"status": run.status}})
        run.status, run.finished_at, run.resume_at = RunStatus.CANCELLED, clock.now(), None
        run.save(update_fields=["status", "finished_at", "resume_at"])
        RunWait.objects.filter(run=run).delete()  # a cancelled `wait_for` waits for nothing any more
    return run


def enqueue_run(run_id: int) -> None:
    """Wake a worker for one run; if the queue drops it, the sweep finds the run by its resume time."""
    from django_q.tasks import async_task

    async_task("workflows.tasks.execute_run_task", run_id, group="runs")


__all__ = ["DefinitionError"]


def endpoint_enable(*, endpoint: Endpoint, redeliver_failed_since: dt.datetime | None = None) -> list[int]:
    """Re-enable the endpoint (a fresh streak) and, when asked, re-queue the runs whose delivery to it failed since
    then; they retry from their failed step in the workers. Returns the re-queued run ids."""
    with transaction.atomic():
        Endpoint.objects.filter(pk=endpoint.pk).update(
            disabled_at=None, alerted_at=None, consecutive_failures=0, failing_since=None
        )
        run_ids = health.failed_runs_since(endpoint, redeliver_failed_since) if redeliver_failed_since else []
        for run in WorkflowRun.objects.filter(pk__in=run_ids):
            run_retry(run=run)
    endpoint.refresh_from_db()
    return run_ids

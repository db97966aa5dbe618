"""The steps of the workflow version a run executes, kept per process: a saved version never changes; and the
definitions they come from (a read below the services, which write them)."""

from __future__ import annotations

from typing import Any

from workflows.engine.definition import open_write_only
from workflows.engine.program import flatten
from workflows.models import Workflow, WorkflowRun, WorkflowVersion

_VERSION_CACHE: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
_VERSION_CACHE_SIZE = 512


def steps_of(run: WorkflowRun) -> list[dict[str, Any]]:
    """The steps of the version a run executes, laid out flat (`workflows.engine.program`). A saved version never
    changes, so it is kept per process, keyed by the workflow's identity (its id and creation time: an id can be
    reused after a delete on SQLite) and version."""
    key = (run.workflow_id, run.workflow.created_at, run.version)
    steps = _VERSION_CACHE.get(key)
    if steps is None:
        steps = flatten(definition_for_version(run)["steps"])
        if len(_VERSION_CACHE) >= _VERSION_CACHE_SIZE:
            _VERSION_CACHE.clear()
        _VERSION_CACHE[key] = steps
    return steps


def definition_for_version(run: WorkflowRun) -> dict[str, Any]:
    """The definition a run executes: the version it started with, even if the workflow changed since."""
    saved = WorkflowVersion.objects.filter(workflow_id=run.workflow_id, version=run.version).first()
    return saved.definition if saved else stored_definition(run.workflow)


def stored_definition(workflow: Workflow) -> dict[str, Any]:
    """The workflow's definition as it is now, write-only values opened (server-side only, never output)."""
    return open_write_only(
        {
            "name": workflow.name,
            "description": workflow.description,
            "status": workflow.status,
            "order": workflow.order,
            "stop_processing": workflow.stop_processing,
            "trigger": {"type": workflow.trigger_type, "config": workflow.trigger_config},
            "steps": [
                {"type": step.type, "config": step.config, **({"on_false": step.on_false} if step.on_false else {})}
                for step in workflow.steps.all()
            ],
        }
    )

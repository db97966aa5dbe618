"""The steps of the workflow version a run executes, kept per process: a saved version never changes."""
from __future__ import annotations

from workflows.engine.program import flatten
from workflows.models import WorkflowRun
from workflows.services import definition_for_version

_VERSION_CACHE: dict[tuple, list[dict]] = {}
_VERSION_CACHE_SIZE = 512


def steps_of(run: WorkflowRun) -> list[dict]:
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

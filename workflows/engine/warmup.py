"""A queue worker's warm-up, once, before its first task (docs/operations.md "What a run costs").

A fresh worker process pays for things once: the engine's statements compiled from the models (each INSERT once per
row count), the template environment, the steps of the active workflows' versions, and one full pass of the cycle collector over everything Django and the engine
keep for the process's life before those objects are frozen out of its reach (`drain._settle_process`, ~0.2 s of CPU
on its own). Paid inside the first tasks, that is charged to the first runs, and again after every recycle of the
worker (Q_CLUSTER "recycle"). django-q2 sends `post_spawn` in each new worker process before it takes a task; this
receiver does that work there. Nothing is written and no task waits for it: a worker that cannot warm up (the
database is away) logs it and compiles on first use, as before.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import connection
from django_q.conf import Conf

from conversations.statements import compile_all
from workflows.choices import WorkflowStatus
from workflows.engine import drain, sandbox, versions
from workflows.models import Workflow, WorkflowRun

logger = logging.getLogger(__name__)

# A dispatched batch starts its runs with one INSERT per row count: the counts of a few messages' worth of runs are
# compiled ahead (larger ones, seen in a backlog, once on first use).
INSERT_ROWS = 12
# The active workflows whose current version's steps are loaded ahead (`versions.steps_of`, kept per process).
ACTIVE_WORKFLOWS = 100


def warm_up() -> float:
    """Compile the statements, build the template environment, then freeze what the process keeps; the CPU seconds
    it took."""
    started = time.process_time()
    try:
        compiled = compile_all(connection, insert_rows=INSERT_ROWS)
        sandbox.environment()
        load_active_versions()
    except Exception:  # a worker that cannot warm up still works: what it needs is built on first use
        logger.warning("The worker's warm-up failed; it compiles its statements on first use", exc_info=True)
        compiled = 0
    drain._settle_process()
    spent = time.process_time() - started
    logger.info("Worker warmed up: %s statements compiled, %.0f ms of CPU", compiled, spent * 1000)
    return spent


def load_active_versions(limit: int = ACTIVE_WORKFLOWS) -> int:
    """Load the steps of the active workflows' current versions into the per-process cache the runs read; how many."""
    active = Workflow.objects.filter(status=WorkflowStatus.ACTIVE).order_by("-updated_at")[:limit]
    for workflow in active:
        versions.steps_of(WorkflowRun(workflow=workflow, version=workflow.version))
    return len(active)


def warm_worker(sender: Any = None, **kwargs: Any) -> None:
    """django-q2 `post_spawn` receiver (connected in WorkflowsConfig.ready): runs in each new worker process. Not in
    the in-process queue (tests, sync mode), which sends it in the caller's own process for every task."""
    if not Conf.SYNC:
        warm_up()

"""Why did (or didn't) a workflow start for an event (docs/managers.md)? The selectors here answer it from what was
recorded: the workflow versions (each save, status changes and reorders included, is a `WorkflowVersion` stamped with
the product clock), the event's payload, the runs it started and their step results. Nothing extra is written at
dispatch time: the version live when the event was dispatched gives the status, order, `stop_processing` and
trigger filter the dispatcher used; a run means it started; a matching `stop_processing` workflow earlier in that
order means the later ones were stopped; what remains failed its trigger filter, which `triggers.explain` names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations import clock, payloads
from conversations.conf import helpdesk_setting
from conversations.models import Event
from workflows.choices import RunStatus, WorkflowStatus
from workflows.engine.context import BatchReader
from workflows.models import StepRun, WorkflowRun, WorkflowVersion
from workflows.triggers import registry as triggers


class Outcome:
    """What happened to one workflow for one event."""

    STARTED = "started"
    FILTERED_OUT = "filtered_out"
    NOT_ACTIVE = "not_active"
    DEPTH_LIMIT = "depth_limit"
    STOPPED_BY_EARLIER = "stopped_by_earlier"
    STOPPED_AT_CONDITION = "stopped_at_condition"
    PENDING = "pending"  # the event is not dispatched yet: nothing was decided

    ALL = (STARTED, FILTERED_OUT, NOT_ACTIVE, DEPTH_LIMIT, STOPPED_BY_EARLIER, STOPPED_AT_CONDITION, PENDING)


OUTCOME_LABELS = {
    Outcome.STARTED: gettext_lazy("Started"),
    Outcome.FILTERED_OUT: gettext_lazy("Trigger filter did not match"),
    Outcome.NOT_ACTIVE: gettext_lazy("Not active"),
    Outcome.DEPTH_LIMIT: gettext_lazy("Depth limit (loop protection)"),
    Outcome.STOPPED_BY_EARLIER: gettext_lazy("Stopped by an earlier workflow"),
    Outcome.STOPPED_AT_CONDITION: gettext_lazy("Stopped at a condition"),
    Outcome.PENDING: gettext_lazy("Not dispatched yet"),
}


@dataclass(frozen=True)
class _Then:
    """A workflow as it was when the event was dispatched: the version live then and its definition."""

    workflow_id: int
    version: int
    definition: dict[str, Any]

    @property
    def order_key(self) -> tuple[int, int]:
        return self.definition.get("order") or 0, self.workflow_id  # the dispatcher's (order, id)

    @property
    def name(self) -> str:
        return str(self.definition.get("name", ""))


def decided_at(event: Event) -> dt.datetime:
    """The moment the dispatcher looked at the event (now, for an event it has not handled yet)."""
    return event.dispatched_at or clock.now()


def event_data(event: Event, run_ids: Iterable[int]) -> dict[str, Any]:
    """An event as the events list and explain show it."""
    return {
        "id": str(event.pk),
        "type": event.type,
        "occurred_at": event.occurred_at,
        "depth": event.depth,
        "payload": event.payload,
        "dispatched_at": event.dispatched_at,
        "runs": sorted(run_ids),
    }


def conversation_events(conversation_id: int) -> QuerySet[Event]:
    """A conversation's events, newest first (pair a page of them with `runs_by_event`)."""
    return Event.objects.filter(conversation_id=conversation_id).order_by("-occurred_at", "-pk")


def runs_by_event(events: Iterable[Event]) -> dict[Any, list[int]]:
    """The ids of the runs each of these events started, with one query."""
    found: dict[Any, list[int]] = {event.pk: [] for event in events}
    for event_id, run_id in WorkflowRun.objects.filter(event_id__in=list(found)).values_list("event_id", "pk"):
        found[event_id].append(run_id)
    return found


def _versions_then(event: Event) -> list[_Then]:
    """Every workflow's version live when the event was dispatched, for those whose trigger was the event's type
    then, in dispatch order. Workflows created later are not listed: they did not exist for this event."""
    latest = (
        WorkflowVersion.objects.filter(workflow=OuterRef("workflow"), created_at__lte=decided_at(event))
        .order_by("-version")
        .values("pk")[:1]
    )
    rows = WorkflowVersion.objects.filter(pk=Subquery(latest)).values_list("workflow_id", "version", "definition")
    found = [_Then(*row) for row in rows if (row[2].get("trigger") or {}).get("type") == event.type]
    kind = triggers.trigger_type(event.type)
    if kind is not None and kind.targeted:  # schedule and manual events name their one workflow
        wanted = payloads.payload_of(event, payloads.TargetedRun).get("workflow_id")
        found = [then for then in found if then.workflow_id == wanted]
    return sorted(found, key=lambda then: then.order_key)


def _runs_of(event: Event) -> dict[int, WorkflowRun]:
    """The event's runs by workflow, with their condition steps (one query each, whatever the number of runs)."""
    conditions = Prefetch(
        "steps", queryset=StepRun.objects.filter(type="condition").order_by("-position"), to_attr="condition_steps"
    )
    return {run.workflow_id: run for run in WorkflowRun.objects.filter(event=event).prefetch_related(conditions)}


class _Explainer:
    """Walks the workflows of one event in dispatch order, as the dispatcher did, saying what happened to each."""

    def __init__(self, event: Event):
        self.event = event
        self.runs = _runs_of(event)
        self.stopper: _Then | None = None
        self._data: dict[str, Any] | None = None

    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = BatchReader([self.event]).context(self.event)
        return self._data

    def entry(self, then: _Then) -> dict[str, Any]:
        run = self.runs.get(then.workflow_id)
        found = {
            "workflow": then.workflow_id,
            "name": then.name,
            "version": run.version if run else then.version,
            **self._outcome(then, run),
        }
        if run is not None and then.definition.get("stop_processing") and self.stopper is None:
            self.stopper = then
        return found

    def _outcome(self, then: _Then, run: WorkflowRun | None) -> dict[str, Any]:
        status = then.definition.get("status")
        if run is not None:
            return _run_outcome(run)
        if self.event.dispatched_at is None:
            return {"outcome": Outcome.PENDING, "reason": _("the event has not been dispatched yet")}
        if status != WorkflowStatus.ACTIVE:
            return {
                "outcome": Outcome.NOT_ACTIVE,
                "status": status,
                "reason": _("the workflow was %(status)s then") % {"status": status},
            }
        if self.event.depth > helpdesk_setting("MAX_DEPTH"):
            return {
                "outcome": Outcome.DEPTH_LIMIT,
                "reason": _("depth %(depth)s exceeds HELPDESK_MAX_DEPTH=%(limit)s")
                % {"depth": self.event.depth, "limit": helpdesk_setting("MAX_DEPTH")},
            }
        if self.stopper is not None:
            return {
                "outcome": Outcome.STOPPED_BY_EARLIER,
                "stopped_by": self.stopper.workflow_id,
                "reason": _('"%(name)s" (#%(id)s) matched first and stops processing')
                % {"name": self.stopper.name, "id": self.stopper.workflow_id},
            }
        return self._filtered_out(then)

    def _filtered_out(self, then: _Then) -> dict[str, Any]:
        trigger = then.definition.get("trigger") or {}
        reason = triggers.explain(self.event.type, trigger.get("config") or {}, self.event, self.data())
        if reason is None:  # it matches the conversation as it is now: what changed since decided it then
            return {
                "outcome": Outcome.FILTERED_OUT,
                "reason": _("the trigger filter did not match then (it matches the conversation as it is now)"),
            }
        return {"outcome": Outcome.FILTERED_OUT, "key": reason.split(":", 1)[0], "reason": reason}


def _run_outcome(run: WorkflowRun) -> dict[str, Any]:
    if run.status != RunStatus.STOPPED:
        return {
            "outcome": Outcome.STARTED,
            "run": run.pk,
            "run_status": run.status,
            "reason": _("the trigger matched (run %(status)s)") % {"status": run.status},
        }
    step = _stopping_condition(run)
    return {
        "outcome": Outcome.STOPPED_AT_CONDITION,
        "run": run.pk,
        "run_status": run.status,
        "step": step,
        "reason": _("run #%(run)s stopped at step %(step)s (condition): %(checks)s")
        % {
            "run": run.pk,
            "step": _step_name(step),
            "checks": "; ".join(triggers.check_words(check) for check in step["checks"])
            or _("the condition was false"),
        },
    }


def _stopping_condition(run: WorkflowRun) -> dict[str, Any]:
    """The condition step that stopped the run, with the checks that were false (as the step recorded them)."""
    condition_steps: list[StepRun] = getattr(run, "condition_steps", [])  # prefetched (to_attr) with the runs
    last = condition_steps[0] if condition_steps else StepRun(position=run.position, type="condition")
    checks = [check for check in (last.output or {}).get("checks", []) if not check.get("result")]
    path = last.path or str(last.position)
    return {"position": int(path.split(".")[0]), "path": path, "type": last.type, "checks": checks}


def _step_name(step: dict[str, Any]) -> str:
    """A step as a reason names it: its 1-based number at the top level, its path inside a branch ("0.1.2")."""
    return _("%(path)s (in a branch)") % {"path": step["path"]} if "." in step["path"] else str(step["position"] + 1)


def explain_event(event: Event) -> dict[str, Any]:
    """`{"event": ..., "workflows": [...]}`: one entry per workflow whose trigger type was the event's type when it
    was dispatched, in the order the dispatcher considered them, each with its outcome and the reason in words."""
    explainer = _Explainer(event)
    workflows = [explainer.entry(then) for then in _versions_then(event)]
    run_ids = [run.pk for run in explainer.runs.values()]
    return {"event": event_data(event, run_ids), "workflows": workflows}

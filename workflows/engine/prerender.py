"""Renders made before the write transaction opens (issue 25): no template renders while a run holds a lock.

On SQLite a transaction takes the database's one write lock at BEGIN (`transaction_mode = IMMEDIATE`), so a
template rendered inside a run's transaction would make every API write wait for it, up to the render deadline
(`HELPDESK_TEMPLATE_MAX_SECONDS`). So the runner renders first, from a read of the run context (in WAL mode a read
blocks no writer), and the transaction then uses those texts:

- Before a segment's transaction opens, every step that segment may reach (from the run's position up to the first
  step that cannot run inside it) is rendered over the context as it is then, and the values of the namespaces its
  templates read are kept (`Prerendered.seen`).
- Inside, a step uses its rendering when those namespaces still hold the same values (an earlier step of the
  segment changed nothing it reads). Otherwise, or when it has none, the segment ends before it and commits; the
  next segment renders it again, before its own transaction. The first step of a segment always uses its own.
- A step whose config holds no template (a fixed text) renders for free and is not rendered ahead.
A render that fails is kept as well and becomes the step's failure if the step is reached, exactly as if it had
rendered in place. Steps that call other systems run outside any transaction and render where they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError

from workflows.steps import step_types
from workflows.steps.registry import StepContext, StepType


@dataclass
class Prerendered:
    """One step's config rendered ahead: what it rendered to (or the error it raised) and what it read."""

    config: dict[str, Any]
    seen: dict[str, Any]  # namespace -> the value the render read
    rendered: dict[str, Any] | None = None
    error: Exception | None = None

    def fits(self, data: dict[str, Any]) -> bool:
        """Whether rendering again over `data` would give the same (the namespaces it read are unchanged)."""
        return all(data.get(name) == value for name, value in self.seen.items())

    def apply(self, ctx: StepContext) -> None:
        """Give the step its rendering (`StepType.render` returns it), or raise the error rendering it raised."""
        if self.error is not None:
            raise self.error
        if self.rendered is not None:
            ctx.rendered = (self.config, self.rendered)


# `StepType.template_inputs` per config object, worked out once per process: a workflow version's steps are kept per
# process (`versions.steps_of`), so the same config object comes back run after run. Each entry holds its step type
# and config, so their ids cannot be reused while it is kept.
_INPUTS: dict[tuple[int, int], tuple[StepType, dict[str, Any], frozenset[str] | None]] = {}
_INPUTS_SIZE = 2048


def template_inputs(step_type: StepType, config: dict[str, Any]) -> frozenset[str] | None:
    """`step_type.template_inputs(config)` for a config of a kept version (never changed in place), from the
    process's cache after the first time."""
    key = (id(step_type), id(config))
    known = _INPUTS.get(key)
    if known is not None and known[0] is step_type and known[1] is config:
        return known[2]
    names = step_type.template_inputs(config)
    if len(_INPUTS) >= _INPUTS_SIZE:
        _INPUTS.clear()
    _INPUTS[key] = (step_type, config, names)
    return names


def prerender(
    step_type: StepType, config: dict[str, Any], ctx: StepContext, *, kept: bool = False
) -> Prerendered | None:
    """Render a step's config now (call it before its transaction opens); None when it holds no template. `kept`:
    the config belongs to a version kept per process (a run's steps), so what its templates read is cached."""
    names = template_inputs(step_type, config) if kept else step_type.template_inputs(config)
    if names is None:
        return None
    prepared = Prerendered(config=config, seen={name: ctx.data.get(name) for name in sorted(names)})
    try:
        prepared.rendered = step_type.render(config, ctx)
    except DatabaseError:  # the database failing is not the step failing (see the runner)
        raise
    except Exception as exc:  # noqa: BLE001 (raised again where the step executes, which turns it into its failure)
        prepared.error = exc
    return prepared


def segment_prerenders(
    steps: list[dict[str, Any]],
    position: int,
    in_segment: Callable[[int], bool],
    ctx: StepContext,
    known: dict[int, Prerendered] | None = None,
) -> dict[int, Prerendered]:
    """Render ahead, over `ctx` (the context as the segment starts), every step a segment starting at `position`
    may reach: the steps from there on for which `in_segment(position)` holds, up to the first that does not.
    A rendering in `known` (made before an earlier segment of the run) that still holds is kept, not made again."""
    prepared = _prerenders(steps, position, in_segment, ctx, known, render=True)
    assert prepared is not None  # noqa: S101 (with render=True every step is rendered)
    return prepared


def kept_prerenders(
    steps: list[dict[str, Any]],
    position: int,
    in_segment: Callable[[int], bool],
    ctx: StepContext,
    known: dict[int, Prerendered] | None,
) -> dict[int, Prerendered] | None:
    """`segment_prerenders` from `known` alone, rendering nothing (a transaction is open): None when a step of the
    segment has templates and no rendering in `known` that still holds."""
    return _prerenders(steps, position, in_segment, ctx, known, render=False)


def _prerenders(
    steps: list[dict[str, Any]],
    position: int,
    in_segment: Callable[[int], bool],
    ctx: StepContext,
    known: dict[int, Prerendered] | None,
    render: bool,
) -> dict[int, Prerendered] | None:
    prepared: dict[int, Prerendered] = {}
    while position < len(steps) and in_segment(position):
        step = steps[position]
        made = (known or {}).get(position)
        if made is None or not made.fits(ctx.data):
            step_type, config = step_types.require(step["type"]), step.get("config", {})
            if not render and template_inputs(step_type, config) is not None:
                return None
            made = prerender(step_type, config, ctx, kept=True)
        if made is not None:
            prepared[position] = made
        position += 1
    return prepared

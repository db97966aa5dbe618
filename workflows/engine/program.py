"""A definition's steps as the runner walks them: nested `branch` paths laid out flat, in reading order.

Each slot is the step's own dict plus where it sits and where the run goes next:
- `_path`: the step's dotted path (docs/managers.md): "2" for top-level position 2, "2.1.0" for the first step of the
  first branch of that branch step (branches numbered from 1, `else` last);
- `_top`: the top-level position it belongs to (a step result's `position`);
- `_after`: the slot to go to when the step (and everything nested in it) is done;
- `_sibling`: the next step of the same list (what `on_false: skip_next` skips), or None for the last one;
- `_targets`: for a branch step, the first slot of each path (branches, then `else`; an empty path goes `_after`).
A linear definition lays out as itself: slot n is top-level step n, so runs of older definitions are unchanged.
The run's `position` column is its slot; jumps only go forward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_BRANCH_DEPTH = 3
BRANCH = "branch"


def nested_paths(step: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The step lists nested in a step: each branch's steps, then `else` (empty for any other step type)."""
    if not isinstance(step, dict) or step.get("type") != BRANCH:
        return []
    config = step.get("config") or {}
    if not isinstance(config, dict):
        return []
    raw_branches = config.get("branches")
    branches: list[Any] = raw_branches if isinstance(raw_branches, list) else []
    lists: list[Any] = [branch.get("steps") if isinstance(branch, dict) else [] for branch in branches]
    lists.append(config.get("else"))
    return [items if isinstance(items, list) else [] for items in lists]


def path_names(step: dict[str, Any]) -> list[str]:
    """The names of a branch step's paths in order: each branch's name, then "else"."""
    branches = (step.get("config") or {}).get("branches") or []
    return [str(branch.get("name", "")) for branch in branches] + ["else"]


def _size(step: dict[str, Any]) -> int:
    return 1 + sum(_size(child) for items in nested_paths(step) for child in items)


def flatten(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The slots of a step list (see the module docstring)."""
    slots: list[dict[str, Any]] = []
    _lay(steps, "", None, 0, sum(_size(step) for step in steps), slots)
    return slots


def _lay(
    steps: list[dict[str, Any]], prefix: str, top: int | None, start: int, continuation: int, slots: list[Any]
) -> None:
    index = start
    for number, step in enumerate(steps):
        path = f"{prefix}{number}"
        size = _size(step)
        last = number == len(steps) - 1
        after = continuation if last else index + size
        slot = {
            **step,
            "_path": path,
            "_top": number if top is None else top,
            "_after": after,
            "_sibling": None if last else index + size,
            "_targets": [],
        }
        slots.append(slot)
        child = index + 1
        for path_number, items in enumerate(nested_paths(step), start=1):
            slot["_targets"].append(child if items else after)
            _lay(items, f"{path}.{path_number}.", slot["_top"], child, after, slots)
            child += sum(_size(item) for item in items)
        index += size


def public(slot: dict[str, Any]) -> dict[str, Any]:
    """The step as the definition holds it (without the layout keys)."""
    return {key: value for key, value in slot.items() if not key.startswith("_")}


def target(slot: dict[str, Any], chosen: int | None) -> int:
    """Where the run goes after a slot succeeded: the first slot of the path a branch chose (1-based), else on."""
    if chosen is not None and slot.get("_targets"):
        return int(slot["_targets"][chosen - 1])
    return int(slot["_after"])


def chosen_from_output(slot: dict[str, Any], output: dict[str, Any] | None) -> int | None:
    """The path a finished branch step chose, read back from its recorded output `{"path": name}`."""
    if not slot.get("_targets"):
        return None
    name = (output or {}).get("path")
    names = path_names(slot)
    return names.index(name) + 1 if name in names else len(names)


def depth_errors(steps: list[Any], key: str = "steps", depth: int = 0) -> list[tuple[str, str]]:
    """A branch nested deeper than MAX_BRANCH_DEPTH is refused, naming the step."""
    errors = []
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict) or step.get("type") != BRANCH:
            continue
        here = f"{key}[{index}]"
        if depth + 1 > MAX_BRANCH_DEPTH:
            errors.append(
                (f"{here}.type", f"Branches nest at most {MAX_BRANCH_DEPTH} deep; this branch is {depth + 1} deep.")
            )
            continue
        for name, items in _keyed_paths(step, here):
            errors += depth_errors(items, name, depth + 1)
    return errors


def _keyed_paths(step: dict[str, Any], key: str) -> list[tuple[str, list[Any]]]:
    """Each nested step list of a branch step with its key in the definition (for error messages)."""
    lists = nested_paths(step)
    keys = [f"{key}.config.branches[{number}].steps" for number in range(len(lists) - 1)] + [f"{key}.config.else"]
    return list(zip(keys, lists))


def keyed_steps(steps: list[Any], key: str = "steps", prefix: str = "") -> list[tuple[str, str, Any]]:
    """Every step of a definition, nested ones included, in reading order, as (its key in the definition, e.g.
    `steps[2].config.branches[0].steps[1]`, its path, e.g. "2.1.1", the step)."""
    found = []
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        here, path = f"{key}[{index}]", f"{prefix}{index}"
        found.append((here, path, step))
        if isinstance(step, dict) and step.get("type") == BRANCH:
            for number, (name, items) in enumerate(_keyed_paths(step, here), start=1):
                found += keyed_steps(items, name, f"{path}.{number}.")
    return found


def map_steps(
    steps: list[dict[str, Any]], function: Callable[[dict[str, Any]], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The steps with `function(step)` applied to every step, nested ones included (a branch's nested lists are
    rebuilt from the mapped steps)."""
    mapped = []
    for step in steps:
        step = function(step)
        if isinstance(step, dict) and step.get("type") == BRANCH and isinstance(step.get("config"), dict):
            config = dict(step["config"])
            config["branches"] = [
                {**branch, "steps": map_steps(branch.get("steps") or [], function)}
                for branch in config.get("branches") or []
            ]
            if "else" in config:
                config["else"] = map_steps(config.get("else") or [], function)
            step = {**step, "config": config}
        mapped.append(step)
    return mapped

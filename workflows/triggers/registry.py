"""The trigger-type registry (docs/reference/triggers.md): one `TriggerType` per event type, registered by the module of
its family.

A trigger type is data: its config JSON Schema (the single source of validation for API, admin, import and
templates), its filters — each a config key, the check it makes and the value it looks at — and optional hooks:
`sweep` (record the events that time makes due: schedules, scheduled events), `late_matches` (events that match
only later: a breach once it is `threshold_minutes` late) and `derive` (events made from other events: a sentiment
crossing from a message). Keeping each filter's key and seen value lets the same definition both decide whether a
workflow starts and explain why it did not. The dispatcher knows no trigger type by name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from workflows.engine import conditions

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # dev-only stubs helper: annotations only

    from conversations.models import Event
    from workflows.models import Workflow

STRING_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}
CONDITIONS_KEY = "conditions"
CONDITIONS_SCHEMA = {
    "type": "object",
    "description": gettext_noop(
        "Start the workflow only when these hold (e.g. the "
        "contact is a VIP, or the message came outside "
        "business hours)."
    ),
}
Describe = Callable[
    [dict[str, Any], Any], str
]  # (the trigger config, the seen value) -> why the filter failed, in words
Check = Callable[
    [dict[str, Any], "Event", dict[str, Any]], bool
]  # (the workflow's trigger config, the event, the run context) -> passes
Seen = Callable[["Event", dict[str, Any]], Any]  # what the check looked at, for an explanation


def any_in(configured: list[Any] | None, actual: Any) -> bool:
    """True when the filter is absent or `actual` is one of the configured values (case-insensitive)."""
    if not configured:
        return True
    actual_values = actual if isinstance(actual, (list, tuple, set)) else [actual]
    wanted = {str(value).casefold() for value in configured}
    return any(str(value).casefold() in wanted for value in actual_values if value is not None)


SHOWN_CHARS = 120


def shown(value: Any) -> str:
    """A value as an explanation quotes it: JSON, cut to SHOWN_CHARS."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 2] + '…"'


def from_payload(key: str) -> Seen:
    """The seen value of a filter on one payload key."""
    return lambda event, data: (event.payload or {}).get(key)


@dataclass(frozen=True)
class Filter:
    """One optional key of a trigger config: the filter applies when the key is set (or always, for a modifier
    such as `include_internal` whose absence still excludes something)."""

    key: str
    check: Check
    seen: Seen
    always: bool = False
    describe: Describe | None = None  # default: "<key>: <seen> is not one of <configured>"

    def explain(self, config: dict[str, Any], event: Event, data: dict[str, Any]) -> str:
        """Why this filter failed for the event, naming its key and the value it saw."""
        seen = self.seen(event, data)
        if self.describe is not None:
            return f"{self.key}: {self.describe(config, seen)}"
        return f"{self.key}: " + _("%(seen)s is not one of %(wanted)s") % {
            "seen": shown(seen),
            "wanted": shown(config.get(self.key)),
        }

    def applies(self, config: dict[str, Any]) -> bool:
        return self.always or config.get(self.key) not in (None, [], "", {})


def one_of(key: str, seen: Seen) -> Filter:
    """A list filter: the seen value (or one of the seen values) is one of the configured ones."""
    return Filter(key, lambda config, event, data: any_in(config.get(key), seen(event, data)), seen)


def payload_one_of(key: str, payload_key: str | None = None) -> Filter:
    return one_of(key, from_payload(payload_key or key))


@dataclass(frozen=True)
class TriggerType:
    type: str
    label: StrOrPromise
    schema: dict[str, Any]
    filters: tuple[Filter, ...] = ()
    validate: Callable[[dict[str, Any]], list[tuple[str, str]]] = lambda config: []
    targeted: bool = False  # events name the one workflow they are for (schedule, manual)
    sweep: Callable[[dt.datetime], int] | None = None
    late_matches: Callable[[dt.datetime], list[tuple[Workflow, Event]]] | None = None
    derive: Callable[[list[Event]], None] | None = None
    # Config keys naming other rows, by reference kind (see `workflows.engine.references`).
    references: dict[str, str] = field(default_factory=dict)

    def matches(self, config: dict[str, Any], event: Event, data: dict[str, Any]) -> bool:
        """True when every filter the config sets passes (an empty config matches every event of the type)."""
        return self.first_failure(config, event, data) is None

    def explain(self, config: dict[str, Any], event: Event, data: dict[str, Any]) -> str | None:
        """Why the event does not match the config: the first failing filter in words, or None when it matches.
        Only asked when a person wants to know; `matches` stays a plain boolean on the hot path."""
        failed = self.first_failure(config, event, data)
        return None if failed is None else failed.explain(config, event, data)

    def first_failure(self, config: dict[str, Any], event: Event, data: dict[str, Any]) -> Filter | None:
        """The first filter that fails for this event, or None when the workflow's trigger matches it."""
        for one in self.filters:
            if one.applies(config) and not one.check(config, event, data):
                return one
        return None


def schema(properties: dict[str, Any], required: tuple[Any, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def check_words(check: dict[str, Any]) -> str:
    """One condition check as an explanation quotes it: `field op value (saw actual)`."""
    return f"{check.get('field')} {check.get('op')} {shown(check.get('value'))} " + _("(saw %(value)s)") % {
        "value": shown(check.get("actual"))
    }


def _false_conditions(config: dict[str, Any], data: dict[str, Any]) -> str:
    false = [check_words(check) for check in conditions.explain(config[CONDITIONS_KEY], data) if not check["result"]]
    return "; ".join(false) or _("the condition tree is false")


def _with_conditions(kind: TriggerType) -> TriggerType:
    """Give an event trigger the optional `conditions` filter: the same condition tree as a condition step, evaluated
    over the event's context before any run exists, so memory (`contact.attributes.*`), conversation fields or the
    message decide whether the workflow starts at all. Targeted triggers (schedule, manual) name their workflow."""
    if kind.targeted:
        return kind
    base_validate = kind.validate
    tree = Filter(
        CONDITIONS_KEY,
        lambda config, event, data: conditions.evaluate(config[CONDITIONS_KEY], data),
        lambda event, data: data,
        describe=_false_conditions,
    )

    def validate(config: dict[str, Any]) -> list[tuple[str, str]]:
        return base_validate(config) + conditions.validate(config.get(CONDITIONS_KEY) or {}, CONDITIONS_KEY)

    properties = {**kind.schema["properties"], CONDITIONS_KEY: CONDITIONS_SCHEMA}
    return replace(
        kind, schema={**kind.schema, "properties": properties}, filters=(*kind.filters, tree), validate=validate
    )


class TriggerTypeRegistry:
    """Trigger types by event type; a family module calls `register` once per type it owns."""

    def __init__(self) -> None:
        self._types: dict[str, TriggerType] = {}
        self.by_name = MappingProxyType(self._types)  # a live, read-only view

    def register(self, *kinds: TriggerType) -> None:
        """Add trigger types; a second one for an event type already taken is refused, never a silent overwrite."""
        for kind in kinds:
            if kind.type in self._types:
                raise ValueError(f"Trigger type {kind.type!r} is registered twice")
            self._types[str(kind.type)] = _with_conditions(replace(kind, type=str(kind.type)))

    def get(self, name: str) -> TriggerType | None:
        """The trigger type of that event type; None for an unknown name or a value that is not text."""
        return self._types.get(name) if isinstance(name, str) else None

    def require(self, name: str) -> TriggerType:
        """The trigger type of an event type a validated definition or a recorded event names (KeyError otherwise)."""
        kind = self.get(name)
        if kind is None:
            raise KeyError(f'Unknown trigger type "{name}".')
        return kind

    def names(self) -> list[str]:
        """Event types with a trigger, in registration order (the package loads its families in listing order)."""
        return list(self._types)

    def with_hook(self, hook: str) -> Iterable[TriggerType]:
        """The trigger types that have a `sweep`, `late_matches` or `derive` hook."""
        return [kind for kind in self._types.values() if getattr(kind, hook) is not None]


trigger_types = TriggerTypeRegistry()
TRIGGER_TYPES = trigger_types.by_name
trigger_type = trigger_types.get


def explain(name: str, config: dict[str, Any], event: Event, data: dict[str, Any]) -> str | None:
    """Why an event of trigger type `name` does not match `config` (e.g. `content_contains: none of ["refund"] in
    "where is my parcel"`), or None when it matches or the type names its workflow (schedule, manual)."""
    kind = trigger_type(name)
    if kind is None or kind.targeted:
        return None
    return kind.explain(config or {}, event, data)

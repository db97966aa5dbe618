"""References a workflow definition makes to other rows (docs/managers.md "References are checked"): teams, agents,
integrations, custom actions, business-hours calendars and SLA policies named in a step or trigger config, by id or
by name.

Step types and trigger types declare which config keys hold which kind of reference (`references = {"team":
"team"}`); this module finds them in a definition and looks each kind up with ONE query for the whole definition (or
for a whole page of workflows), so validation and the "broken" badge stay cheap. A templated value (`{{ ... }}`) is
resolved at run time and is not checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations.models import Team
from sla.models import BusinessHours, SlaPolicy
from workflows.engine import program
from workflows.models import CustomAction, Integration
from workflows.steps import step_types
from workflows.triggers import registry as triggers

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # dev-only stubs helper: annotations only


@dataclass(frozen=True)
class Kind:
    """How one kind of reference is looked up: the model, the fields a name may match (exact or case-insensitive)
    and an optional flag the row must have set to be usable (a custom action must be published)."""

    label: StrOrPromise
    model: Callable[[], type[Any]]  # a model class (its `objects` manager is read)
    names: tuple[str, ...] = ("name",)
    folded: tuple[str, ...] = ()  # the name fields compared case-insensitively
    usable: str = ""


USABLE_WORDS = {"published": gettext_lazy("published")}
KINDS: dict[str, Kind] = {
    "team": Kind(gettext_lazy("team"), lambda: Team, folded=("name",)),
    # An agent is a user named by id, username or email (as `conversations.selectors.resolve_agent`).
    "agent": Kind(gettext_lazy("agent"), get_user_model, names=("username", "email"), folded=("email",)),
    "integration": Kind(gettext_lazy("integration"), lambda: Integration),
    "custom_action": Kind(gettext_lazy("custom action"), lambda: CustomAction, usable="published"),
    "business_hours": Kind(gettext_lazy("business-hours calendar"), lambda: BusinessHours),
    "sla_policy": Kind(gettext_lazy("SLA policy"), lambda: SlaPolicy),
}


@dataclass(frozen=True)
class Reference:
    """One reference in a definition: where it is (`steps[2].config.team`), its kind and the value written."""

    key: str
    kind: str
    value: str | int

    @property
    def token(self) -> tuple[str, str]:
        """What identifies the reference whatever its place (a saved version's references are tolerated by value)."""
        return (self.kind, str(self.value).strip().casefold())


def _values(value: Any) -> list[str | int]:
    items = value if isinstance(value, list) else [value]
    return [
        item
        for item in items
        if isinstance(item, (str, int)) and not isinstance(item, bool) and str(item).strip() and "{{" not in str(item)
    ]


def _config_references(config: Any, declared: dict[str, str], key: str) -> list[Reference]:
    if not isinstance(config, dict):
        return []
    return [
        Reference(f"{key}.{name}", kind, value)
        for name, kind in declared.items()
        for value in _values(config.get(name))
    ]


def _step_references(step: Any, key: str) -> list[Reference]:
    step_type = step_types.get(step.get("type", "")) if isinstance(step, dict) else None
    if step_type is None:
        return []
    return _config_references(step.get("config"), step_type.references, f"{key}.config")


def collect(definition: dict[str, Any], *, skip: Iterable[str] = ()) -> list[Reference]:
    """Every checkable reference of a definition, in order; `skip` names parts (`trigger`, `steps[1]`) whose shape
    is invalid and so are not looked into."""
    skipped = set(skip)
    raw_trigger, raw_steps = definition.get("trigger"), definition.get("steps")
    trigger: dict[str, Any] = raw_trigger if isinstance(raw_trigger, dict) else {}
    trigger_type = trigger.get("type")
    kind = triggers.trigger_type(trigger_type) if isinstance(trigger_type, str) else None
    found = (
        []
        if kind is None or "trigger" in skipped
        else _config_references(trigger.get("config"), kind.references, "trigger.config")
    )
    steps: list[Any] = raw_steps if isinstance(raw_steps, list) else []
    # Steps nested in branches too (`steps[2].config.branches[0].steps[1]`), skipped with their top-level step.
    return found + [
        ref
        for key, _, step in program.keyed_steps(steps)
        if key.split(".")[0] not in skipped
        for ref in _step_references(step, key)
    ]


def tokens(definition: dict[str, Any] | None) -> frozenset[tuple[str, str]]:
    """The references a (saved) definition makes, by kind and value."""
    return frozenset(ref.token for ref in collect(definition or {}))


# Lookup -------------------------------------------------------------------------------------------------------


def _ids_and_names(values: Iterable[str | int]) -> tuple[set[int], set[str]]:
    ids = {int(v) for v in values if str(v).strip().isdigit() and int(v) < 2**63}
    names = {str(v).strip() for v in values if isinstance(v, str) and "\x00" not in v}
    return ids, names


def _rows(kind: Kind, values: Iterable[str | int]) -> list[dict[str, Any]]:
    """The rows a set of references may name, in one query."""
    ids, names = _ids_and_names(values)
    queryset = kind.model().objects.all()
    match = Q(pk__in=ids)
    for field in kind.names:
        if field in kind.folded:
            queryset = queryset.annotate(**{f"_{field}": Lower(field)})
            match |= Q(**{f"_{field}__in": {name.casefold() for name in names}})
        else:
            match |= Q(**{f"{field}__in": names})
    fields = ["pk", *kind.names, *([kind.usable] if kind.usable else [])]
    return list(queryset.filter(match).values(*fields)) if ids or names else []


def _find(kind: Kind, rows: list[dict[str, Any]], value: str | int) -> dict[str, Any] | None:
    text = str(value).strip()
    by_id = next((row for row in rows if text.isdigit() and row["pk"] == int(text)), None)
    return by_id or next(
        (row for row in rows for field in kind.names if _same(row[field], text, folded=field in kind.folded)), None
    )


def _same(stored: Any, written: str, *, folded: bool) -> bool:
    stored = str(stored or "")
    return bool(stored.casefold() == written.casefold() if folded else stored == written)


def _problem(kind: Kind, rows: list[dict[str, Any]], value: str | int) -> str | None:
    row = _find(kind, rows, value)
    if row is None:
        return _('No %(kind)s "%(value)s".') % {"kind": kind.label, "value": value}
    if kind.usable and not row[kind.usable]:
        return _('The %(kind)s "%(name)s" is not %(usable)s.') % {
            "kind": kind.label,
            "name": row[kind.names[0]],
            "usable": USABLE_WORDS.get(kind.usable, kind.usable),
        }
    return None


def broken(references: list[Reference]) -> list[tuple[Reference, str]]:
    """Each reference naming nothing (or nothing usable) with its message: one query per kind present."""
    by_kind: dict[str, list[Reference]] = {}
    for ref in references:
        by_kind.setdefault(ref.kind, []).append(ref)
    found = []
    for name, refs in by_kind.items():
        kind = KINDS[name]
        rows = _rows(kind, {ref.value for ref in refs})
        found += [(ref, message) for ref in refs if (message := _problem(kind, rows, ref.value))]
    return found


def check(references: list[Reference]) -> list[tuple[str, str]]:
    """(key, message) for each reference naming nothing (or nothing usable)."""
    return [(ref.key, message) for ref, message in broken(references)]


def problems(definition: dict[str, Any]) -> list[dict[str, str]]:
    """What is broken in a saved definition (a reference deleted since): `[{"key", "message"}]`."""
    return problems_of_many([definition])[0]


def problems_of_many(definitions: list[dict[str, Any]]) -> list[list[dict[str, str]]]:
    """`problems` for many definitions (a list page) with one query per kind for all of them."""
    collected = [collect(definition) for definition in definitions]
    unique = list({(ref.kind, ref.value): ref for refs in collected for ref in refs}.values())
    messages = {(ref.kind, ref.value): message for ref, message in broken(unique)}
    return [
        [
            {"key": ref.key, "message": messages[(ref.kind, ref.value)]}
            for ref in refs
            if (ref.kind, ref.value) in messages
        ]
        for refs in collected
    ]


# Pickers ------------------------------------------------------------------------------------------------------

PICKER_LIMIT = 500


def reference_choices() -> dict[str, list[tuple[str, str]]]:
    """What the workflow editor's pickers offer per reference kind, as (value, label): names (usernames for
    agents), published custom actions only; one query per kind, at most PICKER_LIMIT rows each."""
    return {name: _choices_of(kind) for name, kind in KINDS.items()}


def _choices_of(kind: Kind) -> list[tuple[str, str]]:
    rows = kind.model().objects.all()
    if kind.usable:
        rows = rows.filter(**{kind.usable: True})
    field = kind.names[0]
    return [(value, value) for value in rows.order_by(field).values_list(field, flat=True)[:PICKER_LIMIT] if value]

"""The step-type registry: one class per step type, registered by name (docs/reference/steps.md).

A step type declares its config JSON Schema (the single source of validation for API, admin, import and
templates), extra checks jsonschema cannot express, a dry-run description and its execution. The runner knows no
step type by name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext

from workflows.engine import sandbox
from workflows.engine.context import render_value, template_inputs
from workflows.integrations import binding
from workflows.steps.languages import localized

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # dev-only stubs helper: annotations only

    from conversations.models import Conversation, Event
    from workflows.models import StepRun, WorkflowRun

# How every read shows a write-only config key that holds a value (API, export, admin editor, run logs). Posting it
# back unchanged means "keep the value saved before" (see `workflows.engine.definition.keep_write_only`). The same four
# stars as integration secrets (`workflows.integrations.secrets.MASK`), so "****" means "hidden" everywhere.
WRITE_ONLY_MASK = "****"


class Outcome(enum.StrEnum):
    """What a step asks the runner to do next. A `StrEnum`, so a stored or compared value is still plain text."""

    SUCCEEDED = "succeeded"  # record it and go on to the next step
    FAILED = "failed"  # record the error and fail the run
    CONDITION_FALSE = "condition_false"  # a condition step's tree was false: `on_false` decides
    WAITING = "waiting"  # sleep durably until `resume_at` (the wait step)
    RETRY = "retry"  # a transient failure: try the same step again at `resume_at`


@dataclass
class StepOutcome:
    """What a step did: the runner records it and moves on, stops, waits or fails the run."""

    status: Outcome = Outcome.SUCCEEDED
    output: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    resume_at: dt.datetime | None = None
    error: str = ""
    # A branch step's choice: the 1-based number of the path to take (branches in order, `else` last).
    chosen_path: int | None = None

    @classmethod
    def failed(cls, error: str, **output: Any) -> StepOutcome:
        return cls(status=Outcome.FAILED, error=error, output=output)


@dataclass
class StepContext:
    """What a step execution gets: the run context, the depth its changes carry, and whether it is a dry run."""

    data: dict[str, Any]  # the run context (`workflows.engine.context.LazyContext`, a dict that loads on demand)
    event: Event | None  # the event the run is for (unsaved for a dry run over a sample event; None for a macro)
    conversation: Conversation | None  # None only for a dry run over a sample event without one
    run: WorkflowRun | None = None  # None in a dry run
    step_run: StepRun | None = None  # the attempt's row; None in a dry run
    depth: int = 1
    dry_run: bool = False
    trigger_type: str = ""
    # The person the changes are made as: an agent applying a macro (None for a workflow run, which acts as itself).
    actor: Any = None
    # (config, its rendering) made before the step's transaction opened (`workflows.engine.prerender`): `render`
    # of that config returns it, so no template renders while the run holds the database's write lock.
    rendered: tuple[dict[str, Any], dict[str, Any]] | None = None

    def require_conversation(self) -> Conversation:
        """The run's conversation: `execute` always has one (only a dry run over a sample event has none)."""
        if self.conversation is None:
            raise ValueError("This step needs a conversation.")
        return self.conversation


@dataclass
class DefinitionInfo:
    """Facts about the whole definition a step type may need to validate itself (e.g. the trigger type)."""

    trigger_type: str
    position: int
    # Checks a trigger type's config (its name, the config) -> (key, message) errors, or None when no trigger type
    # has that name. Given by the definition validator, which knows the trigger registry (steps may not import it).
    check_trigger_config: Any = None


class StepType:
    """Base class of step types. Subclasses set `type`, `label`, `schema` and implement `execute`."""

    type: ClassVar[str] = ""
    label: ClassVar[StrOrPromise] = ""
    category: ClassVar[str] = "action"
    schema: ClassVar[dict[str, Any]] = {"type": "object"}
    # Config keys rendered as templates before execution (the rest are used verbatim).
    templated: ClassVar[tuple[str, ...]] = ()
    has_side_effects: ClassVar[bool] = True
    # Config keys that are written but never read back (a webhook's signing secret): reads show WRITE_ONLY_MASK, the
    # save that set the value shows it once, and posting the mask back keeps the saved value.
    write_only: ClassVar[tuple[str, ...]] = ()
    # Steps whose templates may read `secrets.*`: the runner masks every secret in what it records for them.
    uses_secrets: ClassVar[bool] = False
    # Internal steps run inside the run's transaction (their effects and result commit together); steps that call
    # other systems set this to False so no database lock is held during network I/O.
    transactional: ClassVar[bool] = True
    # Config keys naming other rows, by reference kind (`workflows.engine.references.KINDS`): checked on save, and
    # shown as the workflow's problems once the row is deleted.
    references: ClassVar[dict[str, str]] = {}
    # Internal steps change only this helpdesk's own records (no email, call or wait): what a macro may contain.
    internal: ClassVar[bool] = False

    def runs_in_transaction(self, config: dict[str, Any]) -> bool:
        """Whether this step, with this config, executes inside the run's transaction (see `transactional`)."""
        return self.transactional

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        """Checks beyond the JSON Schema, as (config key, message)."""
        return []

    def binding_errors(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        """Save-time checks of credentials bound to their integration, as (config key, message): a step that names no
        integration reads no secret (`workflows.integrations.binding`); outbound steps check their URL too."""
        return binding.secret_errors(config, self.templated, None, names_integration=False)

    def prepare(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config as it is saved: a step type may fill in what is generated once on save (a webhook secret)."""
        return config

    def mask_write_only(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config as reads show it: each write-only key that holds a value replaced by WRITE_ONLY_MASK."""
        return {
            key: WRITE_ONLY_MASK if key in self.write_only and value not in ("", None) else value
            for key, value in config.items()
        }

    def render(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """The config with its templated keys rendered over the run context (the step's recorded input); texts in
        the contact's language replace the step's own when the step has `translations`."""
        if ctx.rendered is not None and ctx.rendered[0] is config:
            return dict(ctx.rendered[1])
        if "translations" in config:
            config = localized(config, ((ctx.data.get("contact") or {}).get("language") or ""))
        with sandbox.render_deadline():  # one deadline for the whole config
            return {
                key: render_value(value, ctx.data) if key in self.templated else value for key, value in config.items()
            }

    def template_inputs(self, config: dict[str, Any]) -> frozenset[str] | None:
        """The run-context namespaces the templates of this config read (`contact`, `vars`...), or None when it
        renders no template, which costs nothing (see `workflows.engine.prerender`)."""
        names = template_inputs([config.get(key) for key in self.templated])
        if names is not None and "translations" in config:  # which text is rendered depends on the contact
            names |= {"contact"}
        return names

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """What the step would do, for a dry run: by default, its rendered input."""
        return {"would": str(self.label), "input": self.render(config, ctx)}

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        raise NotImplementedError

    def resume(self, config: dict[str, Any], run: WorkflowRun, step_run: StepRun) -> StepOutcome | None:
        """Called once when the run resumes after this step waited: an outcome whose output and variables replace
        the wait's, or None to just go on (a fixed `wait`)."""
        return None


class StepTypeRegistry:
    """Step types by name; `register` is a class decorator."""

    def __init__(self) -> None:
        self._types: dict[str, StepType] = {}

    def register(self, cls: type[StepType]) -> type[StepType]:
        """Add a step type; a second type under a name already taken is refused, never a silent overwrite."""
        if not cls.type or not cls.label:
            raise ValueError(f"{cls.__name__} needs a type and a label")
        if cls.type in self._types:
            raise ValueError(
                f"Step type {cls.type!r} is registered twice ({cls.__name__} and "
                f"{type(self._types[cls.type]).__name__})"
            )
        self._types[cls.type] = cls()
        return cls

    def get(self, name: str) -> StepType | None:
        """The step type of that name; None for an unknown name or a value that is not text (e.g. `{}` in a body)."""
        return self._types.get(name) if isinstance(name, str) else None

    def require(self, name: str) -> StepType:
        """The step type of a name a validated definition holds (a KeyError names an unknown one)."""
        step_type = self.get(name)
        if step_type is None:
            raise KeyError(f'Unknown step type "{name}".')
        return step_type

    def names(self) -> list[str]:
        return sorted(self._types)

    def items(self) -> list[tuple[str, StepType]]:
        return sorted(self._types.items())

    @contextlib.contextmanager
    def register_temporarily(self, cls: type[StepType]) -> Iterator[None]:
        """For tests: a fake step type that exists only inside the block."""
        previous = self._types.pop(cls.type, None)
        self.register(cls)
        try:
            yield
        finally:
            if previous is None:
                self._types.pop(cls.type, None)
            else:
                self._types[cls.type] = previous


step_types = StepTypeRegistry()


# Ten years at most: longer is a typo, and would overflow date arithmetic when the run resumes.
DURATION_PROPERTIES: dict[str, Any] = {
    "minutes": {"type": "number", "minimum": 0, "maximum": 3650 * 24 * 60},
    "hours": {"type": "number", "minimum": 0, "maximum": 3650 * 24},
    "days": {"type": "number", "minimum": 0, "maximum": 3650},
}


def duration_of(config: dict[str, Any]) -> dt.timedelta:
    """The timedelta a minutes/hours/days config names."""
    return dt.timedelta(minutes=config.get("minutes", 0), hours=config.get("hours", 0), days=config.get("days", 0))


def validate_duration(config: dict[str, Any]) -> list[tuple[str, str]]:
    """A duration needs at least one of minutes/hours/days and must be positive."""
    if not any(key in config for key in ("minutes", "hours", "days")):
        return [("minutes", gettext("Give minutes, hours or days."))]
    if duration_of(config) <= dt.timedelta(0):
        return [("minutes", gettext("The duration must be more than zero."))]
    return []

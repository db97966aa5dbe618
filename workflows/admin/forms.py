"""Forms of the workflow admin: the editor (trigger and step fields generated from their schemas, turned back into the
workflow definition and checked by the shared validator), the JSON import form, and the "useful data" placeholder list.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from conversations.choices import CONDITION_OPERATOR_LABELS
from conversations.models import Contact, ConversationField
from conversations.safetext import checked_json, find_text_problem, without_lone_surrogates
from sla.models import BusinessHours
from workflows import services
from workflows.admin import editor
from workflows.choices import OnFalse, WorkflowStatus
from workflows.engine import conditions, program, references
from workflows.engine.definition import DefinitionError, validate_definition
from workflows.models import Integration, Workflow
from workflows.steps import step_types
from workflows.steps.registry import WRITE_ONLY_MASK, StepType
from workflows.triggers import registry as triggers

# Reference picker options by kind (`references.reference_choices`), read once per editor page.
Choices = dict[str, list[tuple[str, str]]]

NEW_DEFINITION: dict[str, Any] = {
    "name": "",
    "description": "",
    "status": WorkflowStatus.DRAFT,
    "trigger": {"type": "message.created", "config": {}},
    "steps": [],
}
OPERATOR_LABELS = CONDITION_OPERATOR_LABELS
EVENT_FIELDS = ("type", "occurred_at", "depth", "channel", "sender_type", "from", "to", "disposition", "metric")
SLA_FIELDS = ("metric", "due_at", "minutes_late")
WRITE_ONLY_HELP_SAVED = format_lazy(
    gettext_lazy(
        "Leave as is ({mask}) to keep the current secret. Clear it to generate a new "
        "one (shown once after saving), or paste your own."
    ),
    mask=WRITE_ONLY_MASK,
)
WRITE_ONLY_HELP_NEW = gettext_lazy("Leave empty to generate one when you save (shown once), or paste your own.")
EXPORT_KEYS = ("name", "description", "status", "trigger", "steps")


# Useful data ------------------------------------------------------------------------------------------------


def placeholder_groups(definition: dict | None = None) -> list[tuple[str, list[str]]]:
    """The context paths a manager can insert, from the same field lists conditions validate against; contact
    attributes and variables come from the data and the definition being edited, so they name real keys."""
    steps = (definition or {}).get("steps") or []
    variables = sorted(
        {
            str(step.get("config", {}).get(key))
            for step in steps
            if isinstance(step, dict)
            for key in ("save_as", "name")
            if step.get("type") in ("http_request", "set_variable") and step.get("config", {}).get(key)
        }
    )
    secrets = sorted(
        {name for names in Integration.objects.values_list("secret_names", flat=True) for name in names or []}
    )
    return [
        (
            _("Contact"),
            [f"contact.{name}" for name in conditions.CONTACT_FIELDS if name != "attributes"]
            + [f"contact.attributes.{key}" for key in _attribute_keys()],
        ),
        (
            _("Conversation"),
            [f"conversation.{name}" for name in conditions.CONVERSATION_FIELDS]
            + [f"conversation.fields.{key}" for key in _field_keys()],
        ),
        (_("Message"), [f"message.{name}" for name in conditions.MESSAGE_FIELDS]),
        (_("Event"), [f"event.{name}" for name in EVENT_FIELDS]),
        ("SLA", [f"sla.{name}" for name in SLA_FIELDS]),
        (_("Variables"), [f"vars.{name}" for name in variables] or ["vars."]),
        (_("Secrets"), [f"secrets.{name}" for name in secrets]),
    ]


def _attribute_keys(sample: int = 200) -> list[str]:
    """Keys of contact memory seen on recent contacts (one query)."""
    rows = Contact.objects.order_by("-id").values_list("attributes", flat=True)[:sample]
    return sorted({key for attributes in rows if isinstance(attributes, dict) for key in attributes})[:40]


def _field_keys() -> list[str]:
    """Keys of the conversation field definitions (one query)."""
    return list(ConversationField.objects.order_by("position", "id").values_list("key", flat=True))


def condition_fields() -> list[str]:
    """Fields a condition row can pick (the datalist behind its field box)."""
    return (
        [f"conversation.{name}" for name in conditions.CONVERSATION_FIELDS]
        + [f"conversation.fields.{key}" for key in _field_keys()]
        + [f"contact.{name}" for name in conditions.CONTACT_FIELDS if name != "attributes"]
        + [f"contact.attributes.{key}" for key in _attribute_keys()]
        + [f"message.{name}" for name in conditions.MESSAGE_FIELDS]
        + [f"event.{name}" for name in EVENT_FIELDS]
        + [f"sla.{name}" for name in SLA_FIELDS]
    )


# Posted form -> definition ----------------------------------------------------------------------------------


def definition_from_post(data: QueryDict) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The workflow definition the editor's inputs describe, and the errors of values that could not be read."""
    pairs = []
    for name in data:
        path = editor.parse_path(name)
        if path and path[0] in ("trigger", "steps"):
            values = data.getlist(name)
            pairs.append((path, values if len(values) > 1 else values[0]))
    tree = editor.nest(pairs)
    errors: dict[str, list[str]] = {}
    trigger_raw = tree.get("trigger") if isinstance(tree.get("trigger"), dict) else {}
    trigger_type = editor.text_of(trigger_raw.get("type"))
    kind = triggers.trigger_type(trigger_type)
    config = (
        editor.config_from_post(kind.schema, trigger_raw.get("config", {}), "trigger.config", errors) if kind else {}
    )
    steps = [step_from_post(raw, index, errors) for index, raw in enumerate(editor.as_list(tree.get("steps")))]
    definition = {
        "name": data.get("name", "").strip(),
        "description": data.get("description", "").replace("\r\n", "\n"),
        "status": data.get("status", WorkflowStatus.DRAFT),
        "order": _order_from_post(data.get("order", "")),
        "stop_processing": bool(data.get("stop_processing")),
        "trigger": {"type": trigger_type, "config": config},
        "steps": steps,
    }
    return definition, errors


def _order_from_post(raw: str) -> int | str | None:
    """Blank keeps the current order (a new workflow goes last); anything but a whole number reaches the validator
    as posted, which names the field."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) if raw.lstrip("-").isdigit() and len(raw) < 12 else raw


def step_from_post(raw: Any, index: int, errors: dict[str, list[str]], prefix: str = "") -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    prefix = prefix or f"steps[{index}]"
    step_type = step_types.get(editor.text_of(raw.get("type")))
    step: dict[str, Any] = {"type": editor.text_of(raw.get("type"))}
    if step_type is None:
        return {**step, "config": {}}
    raw_config = raw.get("config", {})
    if step_type.type == program.BRANCH and isinstance(raw_config, dict) and _has_nested_cards(raw_config):
        step["config"] = _branch_from_post(raw_config, f"{prefix}.config", errors)
    elif step_type.category == "condition":
        step["config"] = editor.condition_from_post(raw_config) if isinstance(raw_config, dict) else {}
        step["on_false"] = editor.text_of(raw.get("on_false")) or OnFalse.STOP
    else:
        step["config"] = editor.config_from_post(step_type.schema, raw_config, f"{prefix}.config", errors)
        step["config"].update(_cleared_write_only(step_type, raw_config))
    return step


def _has_nested_cards(raw_config: dict) -> bool:
    """A branch posted as nested cards (paths with a name, a condition builder and step cards), not as JSON boxes."""
    branches = raw_config.get("branches")
    return isinstance(branches, list) and all(isinstance(branch, dict) for branch in branches)


def _branch_from_post(raw_config: dict, prefix: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    """A branch step's config from its nested cards: each path's name, condition and steps, then `else`."""
    branches = []
    for number, raw in enumerate(editor.as_list(raw_config.get("branches"))):
        raw = raw if isinstance(raw, dict) else {}
        here = f"{prefix}.branches[{number}]"
        condition = raw.get("condition")
        branches.append(
            {
                "name": editor.text_of(raw.get("name")).strip(),
                "condition": editor.condition_from_post(condition) if isinstance(condition, dict) else {},
                "steps": [
                    step_from_post(step, index, errors, f"{here}.steps[{index}]")
                    for index, step in enumerate(editor.as_list(raw.get("steps")))
                ],
            }
        )
    otherwise = [
        step_from_post(step, index, errors, f"{prefix}.else[{index}]")
        for index, step in enumerate(editor.as_list(raw_config.get("else")))
    ]
    return {"branches": branches, "else": otherwise}


def _cleared_write_only(step_type: StepType, raw_config: Any) -> dict[str, str]:
    """Write-only inputs the manager emptied: "" asks for a new value, while a key not posted keeps the saved one."""
    raw_config = raw_config if isinstance(raw_config, dict) else {}
    return {
        key: "" for key in step_type.write_only if key in raw_config and not editor.text_of(raw_config[key]).strip()
    }


def definition_from_raw(text: str) -> dict[str, Any]:
    """The raw-JSON box: a workflow definition (read-only keys such as id and version are ignored)."""
    data = checked_json(text)
    if isinstance(data, dict) and set(data) == {"workflow"}:
        data = data["workflow"]
    return {key: data[key] for key in EXPORT_KEYS if key in data} if isinstance(data, dict) else data


class WorkflowEditorForm(forms.ModelForm):
    """The workflow editor. Its inputs are parsed in `clean()` into one definition for the shared validator;
    `editor()` gives the template everything it renders, with each error on the field its key names."""

    class Meta:
        model = Workflow
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.definition: dict[str, Any] | None = None
        self.definition_errors: dict[str, list[str]] = {}
        self.submitted: dict[str, Any] | None = None

    def current_definition(self) -> dict[str, Any]:
        return services.workflow_definition(self.instance) if self.instance.pk else dict(NEW_DEFINITION)

    def raw_mode(self) -> bool:
        """The raw JSON box is used when its checkbox is ticked, or when only a definition was posted."""
        return bool(self.data.get("raw_mode")) or ("name" not in self.data and "definition" in self.data)

    def clean(self) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if self.raw_mode():
            try:
                self.submitted = definition_from_raw(self.data.get("definition", ""))
            except ValidationError as exc:
                self.definition_errors = {"definition": exc.messages}
                raise ValidationError(_("The raw JSON could not be read.")) from exc
        else:
            self.submitted, errors = definition_from_post(self.data)
            errors.update(self._text_errors())
        try:
            # References the saved version already made may stay missing in a draft (shown as problems).
            known = references.tokens(self.current_definition()) if self.instance.pk else frozenset()
            self.definition = validate_definition(self.submitted, tolerated=known)
        except DefinitionError as exc:
            errors = {**{key: value for key, value in exc.errors.items() if key not in errors}, **errors}
        if errors:
            self.definition_errors = errors
            count = sum(len(messages) for messages in errors.values())
            raise ValidationError(
                ngettext(
                    "The workflow has %(count)d problem; it is shown next to its field.",
                    "The workflow has %(count)d problems; each is shown next to its field.",
                    count,
                )
                % {"count": count}
            )
        return self.cleaned_data

    def _text_errors(self) -> dict[str, list[str]]:
        """A NUL or lone surrogate (from a JSON box) on the field it came from; the editor shows it back repaired."""
        problem = find_text_problem(self.submitted)
        if problem is None:
            return {}
        self.submitted = without_lone_surrogates(self.submitted)
        return {problem.path or "definition": [problem.message]}

    def editor(self) -> dict[str, Any]:
        """What the editor template renders: fields with values and errors, blank step types, useful data."""
        shown = self.submitted if isinstance(self.submitted, dict) else self.current_definition()
        context = editor_context(shown, self.definition_errors)
        posted_raw = self.data.get("definition") if self.is_bound and self.raw_mode() else None
        context["raw_json"] = posted_raw if posted_raw is not None else json.dumps(shown, indent=2, ensure_ascii=False)
        context["raw_mode"] = self.is_bound and self.raw_mode()
        return context


# Definition -> editor ---------------------------------------------------------------------------------------


def editor_context(definition: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The editor's nodes for a (possibly invalid) definition, its errors handed to the fields they name."""
    bag = editor.ErrorBag(errors)
    trigger = definition.get("trigger") if isinstance(definition.get("trigger"), dict) else {}
    steps = definition.get("steps") if isinstance(definition.get("steps"), list) else []
    choices = references.reference_choices()
    step_cards = [step_card(step, index, bag, choices) for index, step in enumerate(steps)]
    context = {
        "name": definition.get("name", ""),
        "description": definition.get("description", ""),
        "status": definition.get("status", WorkflowStatus.DRAFT),
        "statuses": WorkflowStatus.choices,
        "name_errors": bag.take("name"),
        "description_errors": bag.take("description"),
        "status_errors": bag.take("status"),
        "order": "" if definition.get("order") is None else definition["order"],
        "stop_processing": definition.get("stop_processing") is True,
        "order_errors": bag.take("order"),
        "stop_processing_errors": bag.take("stop_processing"),
        "trigger": trigger_section(trigger, bag, choices),
        "steps": step_cards,
        "steps_errors": bag.take("steps"),
        "step_types": [(name, kind.label, kind.category) for name, kind in step_types.items()],
        "step_templates": [
            step_card(
                {"type": name, "config": schema_defaults(kind)}, editor.INDEX_PLACEHOLDER, editor.ErrorBag(), choices
            )
            for name, kind in step_types.items()
        ],
        "blank_leaf": condition_leaf_template(),
        "blank_group": condition_leaf_template(group=True),
        "blank_branch": _branch_paths({}, "__b__", "", editor.ErrorBag(), choices)["branches"][0],
        "operators": list(OPERATOR_LABELS.items()),
        "on_false_choices": OnFalse.choices,
        "placeholders": placeholder_groups(definition),
        "condition_fields": condition_fields(),
        "calendars": list(BusinessHours.objects.order_by("name").values_list("name", flat=True)),
    }
    context["other_errors"] = [
        f"{key}: {message}" if key != "non_field_errors" else message
        for key, messages in bag.remaining.items()
        for message in messages
    ]
    return context


def trigger_section(trigger: dict, bag: editor.ErrorBag, choices: Choices | None = None) -> dict[str, Any]:
    """The trigger type select and one config panel per type (only the chosen one is posted)."""
    chosen = trigger.get("type") or NEW_DEFINITION["trigger"]["type"]
    panels = []
    for name, kind in triggers.TRIGGER_TYPES.items():
        active = name == chosen
        config = trigger.get("config", {}) if active else {}
        nodes = editor.config_nodes(kind.schema, config, "trigger.config", bag if active else editor.ErrorBag())
        panels.append(
            {
                "type": name,
                "label": kind.label,
                "active": active,
                "fields": [with_picker(node, kind.references, choices) for node in nodes],
            }
        )
    type_errors = bag.take("trigger.type")
    return {
        "type": chosen,
        "choices": [(name, kind.label) for name, kind in triggers.TRIGGER_TYPES.items()],
        "panels": panels,
        "type_errors": type_errors,
        "errors": bag.take_under("trigger"),
    }


def schema_defaults(kind: StepType) -> dict[str, Any]:
    """A new step's starting config: the `default` its schema gives a key (e.g. the route strategy)."""
    return {key: spec["default"] for key, spec in kind.schema.get("properties", {}).items() if "default" in spec}


def step_card(
    step: Any,
    index: int | str,
    bag: editor.ErrorBag,
    choices: Choices | None = None,
    *,
    prefix: str = "",
    path: str = "",
) -> dict[str, Any]:
    """One step's card: its type, its fields (or condition builder, or a branch's paths of nested cards), and
    errors that name no single field. Nested cards get their `prefix` in the definition and their `path`."""
    step = step if isinstance(step, dict) else {}
    prefix = prefix or f"steps[{index}]"
    kind = step_types.get(step.get("type", ""))
    number = path if path else index + 1 if isinstance(index, int) else ""
    card: dict[str, Any] = {
        "index": index,
        "number": number,
        "prefix": prefix,
        "nested": bool(path),
        "type": step.get("type", ""),
        "label": kind.label if kind else step.get("type", "?"),
        "category": kind.category if kind else "unknown",
        "type_errors": bag.take(f"{prefix}.type"),
    }
    config = step.get("config", {})
    if kind is not None and kind.category == "condition":
        tree = config if isinstance(config, dict) and config else {"all": [dict(editor.BLANK_LEAF)]}
        card["tree"] = editor.condition_node(tree, f"{prefix}.config", bag)
        card["on_false"] = step.get("on_false") or OnFalse.STOP
        card["on_false_errors"] = bag.take(f"{prefix}.on_false")
    elif kind is not None and kind.type == program.BRANCH:
        card.update(_branch_paths(step, prefix, path or str(index), bag, choices))
    elif kind is not None:
        card["fields"] = [
            with_picker(_with_write_only_help(node, kind), kind.references, choices)
            for node in editor.config_nodes(kind.schema, config, f"{prefix}.config", bag, kind.templated)
        ]
    else:
        card["fields"] = editor.config_nodes({}, config, f"{prefix}.config", bag)
    card["errors"] = bag.take_under(prefix)
    return card


def _branch_paths(step: dict, prefix: str, path: str, bag: editor.ErrorBag, choices: Choices | None) -> dict[str, Any]:
    """A branch card's paths: each with its name, condition builder and nested step cards; then `else`'s cards.
    A new branch starts with one blank path."""
    config = step.get("config") if isinstance(step.get("config"), dict) else {}
    raw_branches = [b for b in config.get("branches") or [] if isinstance(b, dict)] or [
        {"name": "", "condition": {"all": [dict(editor.BLANK_LEAF)]}, "steps": []}
    ]
    branches = []
    for number, branch in enumerate(raw_branches):
        here = f"{prefix}.config.branches[{number}]"
        tree = (
            branch.get("condition")
            if isinstance(branch.get("condition"), dict) and branch.get("condition")
            else {"all": [dict(editor.BLANK_LEAF)]}
        )
        branches.append(
            {
                "prefix": here,
                "name": branch.get("name", ""),
                "name_errors": bag.take(f"{here}.name"),
                "tree": editor.condition_node(tree, f"{here}.condition", bag),
                "steps": _nested_cards(branch.get("steps"), f"{here}.steps", f"{path}.{number + 1}", bag, choices),
            }
        )
    otherwise = _nested_cards(
        config.get("else"), f"{prefix}.config.else", f"{path}.{len(raw_branches) + 1}", bag, choices
    )
    return {"branches": branches, "else_steps": otherwise}


def _nested_cards(steps: Any, key: str, path: str, bag: editor.ErrorBag, choices: Choices | None) -> list[dict]:
    return [
        step_card(nested, index, bag, choices, prefix=f"{key}[{index}]", path=f"{path}.{index}")
        for index, nested in enumerate(steps if isinstance(steps, list) else [])
    ]


def _with_write_only_help(node: dict[str, Any], kind: StepType) -> dict[str, Any]:
    """A write-only field shows the mask, never the value, and says how to keep or replace what is saved."""
    if node["key"] not in kind.write_only:
        return node
    saved = node["value"] == WRITE_ONLY_MASK
    return {**node, "write_only": True, "help": WRITE_ONLY_HELP_SAVED if saved else WRITE_ONLY_HELP_NEW}


def with_picker(node: dict[str, Any], declared: dict[str, str], choices: Choices | None) -> dict[str, Any]:
    """A reference key (a team, an agent, an integration...) picks from the database: one name becomes a select
    (the saved value kept when it is not listed, e.g. a template, and "Other…" for typing one, see pickers.js); a
    list keeps its box, with an "Add…" select that appends a line."""
    kind = declared.get(node["key"])
    if kind is None or choices is None or node["kind"] not in ("text", "lines"):
        return node
    label = references.KINDS[kind].label
    options = choices.get(kind, [])
    if node["kind"] == "lines":
        return {**node, "add_choices": options, "add_label": _("Add a %(kind)s…") % {"kind": label}}
    current = str(node["value"])
    unlisted = [(current, _unlisted_label(current))] if current and current not in dict(options) else []
    return {
        **node,
        "kind": "picker",
        "picker": kind,
        "value": current,
        "choices": [("", "—"), *unlisted, *options],
        "other": (editor.PICKER_OTHER, _("Other: type a %(kind)s name, id or {{ template }}…") % {"kind": label}),
    }


def _unlisted_label(value: str) -> str:
    """How a saved value the picker does not list shows: a template or an id as it is, a name as missing."""
    if "{{" in value:
        return value
    return _("id %(id)s") % {"id": value} if value.isdigit() else _("%(name)s (not found)") % {"name": value}


def condition_leaf_template(group: bool = False) -> dict[str, Any]:
    """A blank condition row (or a nested group holding one) the builder clones; the editor script names its
    inputs where it lands."""
    tree = {"all": [dict(editor.BLANK_LEAF)]}
    return editor.condition_node({"all": [tree] if group else tree["all"]}, "__c__", editor.ErrorBag())["items"][0]


# Import -----------------------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    """Workflows from an export file or pasted JSON: one workflow definition, a list of them, or `{"workflows":
    [...]}`."""

    file = forms.FileField(
        required=False,
        label=gettext_lazy("File"),
        help_text=gettext_lazy("A .json file exported from this admin or the API."),
    )
    text = forms.CharField(
        required=False, label=gettext_lazy("Or paste JSON"), widget=forms.Textarea(attrs={"rows": 12, "cols": 90})
    )
    keep_status = forms.BooleanField(
        required=False,
        label=gettext_lazy("Keep the status from the file"),
        help_text=gettext_lazy("Otherwise imported workflows are drafts until you activate them."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload = cleaned.get("file")
        text = upload.read().decode("utf-8", errors="replace") if upload else cleaned.get("text", "")
        if not text.strip():
            raise ValidationError(_("Choose a file or paste JSON."))
        data = checked_json(text)
        cleaned["definitions"] = self._validated(self._bodies(data), cleaned.get("keep_status", False))
        return cleaned

    @staticmethod
    def _bodies(data: Any) -> list[Any]:
        if isinstance(data, dict) and isinstance(data.get("workflows"), list):
            return data["workflows"]
        if isinstance(data, dict) and set(data) == {"workflow"}:
            return [data["workflow"]]
        return data if isinstance(data, list) else [data]

    @staticmethod
    def _validated(bodies: list[Any], keep_status: bool) -> list[dict[str, Any]]:
        """Every body checked by the shared validator; one bad body rejects the file, naming body and key."""
        definitions, problems = [], []
        for number, body in enumerate(bodies, start=1):
            if isinstance(body, dict):
                body = {key: body[key] for key in EXPORT_KEYS if key in body}
                if not keep_status:
                    body["status"] = WorkflowStatus.DRAFT
            try:
                definitions.append(validate_definition(body))
            except DefinitionError as exc:
                label = body.get("name") if isinstance(body, dict) and body.get("name") else f"#{number}"
                problems += [f"Workflow {label}: {key}: {' '.join(messages)}" for key, messages in exc.errors.items()]
        if problems:
            raise ValidationError(problems)
        if not definitions:
            raise ValidationError(_("The file holds no workflow."))
        return definitions

"""The macro editor: a macro's steps as the workflow editor's step cards (fields made from each step type's schema,
the same pickers and "useful data"), limited to the internal step types a macro may hold, and its inputs as rows.

Posted inputs are named like the workflow editor's (`steps[0].config.tags`, `inputs[1].label`), parsed with the same
helpers and checked by the macro service, whose error keys land on the fields they name.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from workflows.admin import editor
from workflows.admin.forms import editor_context, step_from_post
from workflows.engine import macros
from workflows.models import Macro

# Placeholders a macro's text can use beyond the conversation's own data (docs/agent_day.md).
MACRO_PLACEHOLDER_GROUPS = (gettext_noop("Contact"), gettext_noop("Conversation"), gettext_noop("Message"))
# The input types as the rows name them (translated when shown).
INPUT_TYPE_LABELS = {"text": gettext_noop("Text"), "number": gettext_noop("Number"), "date": gettext_noop("Date")}


def steps_from_post(data: QueryDict) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The macro steps the step cards describe, and the errors of values that could not be read."""
    tree = editor.nest(_pairs(data, "steps"))
    errors: dict[str, list[str]] = {}
    steps = [step_from_post(raw, index, errors) for index, raw in enumerate(editor.as_list(tree.get("steps")))]
    return steps, errors


def inputs_from_post(data: QueryDict) -> list[dict[str, str]]:
    """The input rows (`inputs[i].key/label/type`); rows left wholly blank are dropped."""
    rows = editor.as_list(editor.nest(_pairs(data, "inputs")).get("inputs"))
    inputs = [
        {key: editor.text_of(row.get(key)).strip() for key in ("key", "label", "type")}
        for row in rows
        if isinstance(row, dict)
    ]
    return [row for row in inputs if row["key"] or row["label"]]


def _pairs(data: QueryDict, head: str) -> list[tuple[list[str | int], Any]]:
    pairs = []
    for name in data:
        path = editor.parse_path(name)
        if path and path[0] == head:
            values = data.getlist(name)
            pairs.append((path, values if len(values) > 1 else values[0]))
    return pairs


class MacroEditorForm(forms.ModelForm):
    """Name and switch as Django fields; steps and inputs from the cards and rows, checked by the macro service."""

    class Meta:
        model = Macro
        fields = ["name", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.steps: list[dict[str, Any]] | None = None
        self.inputs: list[dict[str, str]] = []
        self.step_errors: dict[str, list[str]] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        steps, errors = steps_from_post(self.data)
        self.steps, self.inputs = steps, inputs_from_post(self.data)
        try:
            self.inputs = macros.validate_inputs(self.inputs)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if not errors:
            try:
                self.steps = macros.validate_macro_steps(steps)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            self.step_errors = errors
            count = sum(len(messages) for messages in errors.values())
            raise ValidationError(
                ngettext(
                    "The macro has %(count)d problem; it is shown next to its field.",
                    "The macro has %(count)d problems; each is shown next to its field.",
                    count,
                )
                % {"count": count}
            )
        cleaned["steps"], cleaned["inputs"] = self.steps, self.inputs
        return cleaned

    def editor(self) -> dict[str, Any]:
        """The step cards, the add-step choices (internal types only), the input rows and the useful data."""
        steps = self.steps if self.steps is not None else list(self.instance.steps or [])
        inputs = self.inputs if self.is_bound else list(self.instance.inputs or [])
        context = editor_context({"steps": steps}, self.step_errors)
        allowed = set(macros.internal_step_types())
        context["step_types"] = [row for row in context["step_types"] if row[0] in allowed]
        context["step_templates"] = [card for card in context["step_templates"] if card["type"] in allowed]
        groups = {_(title) for title in MACRO_PLACEHOLDER_GROUPS}  # the titles as the editor shows them
        context["placeholders"] = [(title, paths) for title, paths in context["placeholders"] if title in groups]
        keys = [row.get("key") for row in inputs if row.get("key")]
        context["placeholders"].insert(0, (_("Inputs"), [f"inputs.{key}" for key in keys] or ["inputs."]))
        context["inputs"] = [
            {**row, "index": index, "errors": self._errors_under(f"inputs[{index}]")}
            for index, row in enumerate(inputs)
        ]
        context["input_types"] = [(kind, _(INPUT_TYPE_LABELS.get(kind, kind))) for kind in macros.INPUT_TYPES]
        context["inputs_errors"] = self.step_errors.get("inputs", [])
        context["other_errors"] = [message for message in context["other_errors"] if not message.startswith("inputs")]
        return context

    def _errors_under(self, prefix: str) -> list[str]:
        return [
            message
            for key, messages in self.step_errors.items()
            if key == prefix or key.startswith(prefix + ".")
            for message in messages
        ]

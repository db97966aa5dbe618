"""`set_field`: write a conversation field or a contact attribute (docs/managers.md), through the service layer.

The value is templated. A conversation field is checked against its definition's type when the workflow is saved
(an unknown key, or a fixed value of the wrong type, is an error on the step) and again when the step runs (after
rendering), by `conversation_set_fields`, which records `conversation.fields_changed`. A contact key is merged into
the contact's `attributes` by `contact_update`, which records `contact.updated`; both at the run's depth + 1.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.models import ConversationField
from conversations.services.fields import clean_field_value
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, StepType, step_types

CONVERSATION, CONTACT = "conversation", "contact"
KEY_SCHEMA = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"}


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


@step_types.register
class SetFieldStep(StepType):
    type = "set_field"
    label = _("Set field")
    internal = True
    schema = {
        "type": "object",
        "required": ["target", "key", "value"],
        "additionalProperties": False,
        "properties": {
            "target": {"enum": [CONVERSATION, CONTACT], "default": CONVERSATION},
            "key": KEY_SCHEMA,
            "value": {
                "type": ["string", "number", "boolean", "null"],
                "description": gettext_noop("Templated; empty or null clears the field / attribute."),
            },
        },
    }
    templated = ("value",)

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        """A conversation key names a defined field, and a fixed (untemplated) value fits its type."""
        if config.get("target") != CONVERSATION:
            return []
        definition = ConversationField.objects.filter(key=config["key"]).first()
        if definition is None:
            return [
                (
                    "key",
                    gettext('Unknown conversation field "%(key)s". Define it under conversation fields first.')
                    % {"key": config["key"]},
                )
            ]
        if _is_template(config.get("value")):
            return []
        try:
            clean_field_value(definition, config.get("value"))
        except ValidationError as exc:
            return [("value", exc.messages[0])]
        return []

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        value = self.render(config, ctx)["value"]
        template = (
            gettext("Set conversation field %(key)s to %(value)s")
            if config["target"] == CONVERSATION
            else gettext("Set contact attribute %(key)s to %(value)s")
        )
        return {
            "would": template % {"key": config["key"], "value": repr(value)},
            "input": {**config, "value": value},
            "current": self._current(config, ctx),
        }

    def _current(self, config: dict[str, Any], ctx: StepContext) -> Any:
        namespace = ctx.data.get(CONVERSATION if config["target"] == CONVERSATION else CONTACT) or {}
        values = namespace.get("fields" if config["target"] == CONVERSATION else "attributes") or {}
        return values.get(config["key"])

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        value = self.render(config, ctx)["value"]
        key = config["key"]
        if config["target"] == CONTACT:
            contact = ctx.require_conversation().contact
            before = (contact.attributes or {}).get(key)
            services.contact_update(
                contact=contact, attributes_patch={key: None if value == "" else value}, depth=ctx.depth
            )
            return StepOutcome(
                output={"target": CONTACT, "key": key, "old": before, "new": (contact.attributes or {}).get(key)}
            )
        conversation = services.conversation_set_fields(
            conversation=ctx.require_conversation(), fields={key: value}, actor=ctx.actor, depth=ctx.depth
        )
        return StepOutcome(output={"target": CONVERSATION, "key": key, "new": (conversation.fields or {}).get(key)})

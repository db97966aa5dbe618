"""Every trigger type of docs/reference/triggers.md is registered by its family module with a label, a valid schema and
filters whose keys are config keys; the registries refuse a second type under a name already taken."""

import pkgutil

import jsonschema
import pytest

import workflows.triggers.registry
from workflows.steps import step_types
from workflows.steps.registry import StepType
from workflows.triggers import FAMILIES, HELPERS, TriggerType, trigger_types

SPEC_TRIGGER_TYPES = [
    "conversation.created",
    "message.created",
    "conversation.status_changed",
    "conversation.assigned",
    "conversation.disposition_set",
    "conversation.sentiment_crossed",
    "contact.updated",
    "recording.uploaded",
    "sla.warning",
    "sla.breached",
    "schedule",
    "scheduled_event.fired",
    "manual",
    "survey.answered",
    "conversation.priority_changed",
    "conversation.tags_changed",
    "ticket.created",
    "conversation.fields_changed",
]


def test_exactly_the_spec_trigger_types_are_registered():
    assert sorted(trigger_types.names()) == sorted(SPEC_TRIGGER_TYPES)


def test_every_module_of_the_package_is_a_family_or_a_named_helper():
    modules = {module.name for module in pkgutil.iter_modules(workflows.triggers.__path__)}
    assert modules == set(FAMILIES) | set(HELPERS)


@pytest.mark.parametrize("name", SPEC_TRIGGER_TYPES)
def test_a_trigger_type_has_a_label_a_valid_schema_and_filters_on_its_own_keys(name):
    kind = trigger_types.get(name)
    assert kind.type == name and kind.label
    jsonschema.Draft202012Validator.check_schema(kind.schema)
    properties = set(kind.schema["properties"])
    assert {one.key for one in kind.filters} <= properties
    if not kind.targeted:
        assert "conditions" in properties  # every event trigger takes the optional condition tree


def test_a_second_trigger_type_for_a_taken_event_type_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        trigger_types.register(TriggerType("message.created", "Again", {"type": "object", "properties": {}}))
    assert trigger_types.get("message.created").label == "New message"


def test_a_second_step_type_for_a_taken_name_is_refused():
    class Again(StepType):
        type, label = "add_tag", "Again"

    with pytest.raises(ValueError, match="registered twice"):
        step_types.register(Again)
    assert step_types.get("add_tag").label != "Again"


def test_the_first_failing_filter_names_its_key():
    class FakeEvent:
        payload = {"sender_type": "agent", "channel": "email", "internal": False}

    kind = trigger_types.get("message.created")
    config = {"sender_types": ["customer"], "content_contains": ["refund"]}
    data = {"message": {"body": "where is my parcel"}}
    assert kind.first_failure(config, FakeEvent(), data).key == "sender_types"
    FakeEvent.payload = {**FakeEvent.payload, "sender_type": "customer"}
    failed = kind.first_failure(config, FakeEvent(), data)
    assert failed.key == "content_contains" and failed.seen(FakeEvent(), data) == "where is my parcel"
    assert kind.matches({"sender_types": ["customer"], "content_contains": ["PARCEL"]}, FakeEvent(), data)

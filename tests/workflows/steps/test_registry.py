"""Every step type of docs/reference/steps.md is registered with a schema, a label, `execute` and `describe`."""

import jsonschema
import pytest

from workflows.steps import step_types
from workflows.steps.registry import StepType

INTERNAL_STEP_TYPES = {
    "condition",
    "auto_reply",
    "route",
    "add_tag",
    "remove_tag",
    "change_status",
    "set_priority",
    "create_ticket",
    "notify",
    "escalate",
    "send_email",
    "send_survey",
    "set_variable",
    "wait",
    "schedule_event",
    "clear_scheduled_event",
    "set_field",
    "set_skills",
}
OUTBOUND_STEP_TYPES = {"http_request", "webhook", "slack", "sms", "transcribe", "custom_action"}
FLOW_CONTROL_STEP_TYPES = {"wait_for", "branch"}  # docs/managers.md
SPEC_STEP_TYPES = INTERNAL_STEP_TYPES | OUTBOUND_STEP_TYPES | FLOW_CONTROL_STEP_TYPES


def test_exactly_the_spec_step_types_are_registered():
    assert set(step_types.names()) == SPEC_STEP_TYPES


def test_outbound_steps_run_outside_the_runs_transaction_and_mask_secrets():
    for name in OUTBOUND_STEP_TYPES:
        step_type = step_types.get(name)
        assert not step_type.runs_in_transaction({}), name
    assert all(step_types.get(name).uses_secrets for name in OUTBOUND_STEP_TYPES)


@pytest.mark.parametrize("name", sorted(SPEC_STEP_TYPES))
def test_a_step_type_has_a_label_a_valid_schema_execute_and_describe(name):
    step_type = step_types.get(name)
    assert step_type.type == name and step_type.label
    jsonschema.Draft202012Validator.check_schema(step_type.schema)
    assert step_type.schema.get("type") == "object"
    assert type(step_type).execute is not StepType.execute
    assert callable(step_type.describe)
    assert set(step_type.templated) <= set(step_type.schema.get("properties", {})) or name == "condition"

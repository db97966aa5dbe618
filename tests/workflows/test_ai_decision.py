"""AI decision: an external agent discovers the callable (active manual) workflows with a JSON Schema of their
inputs, picks one and runs it with `POST /api/workflows/{id}/run/`."""

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workflows.runs_api import runs_through_api, step_summary
from workflows.engine.sweep import sweep_once
from workflows.models import WorkflowRun

REFUND_STEPS = [
    {
        "type": "condition",
        "config": {
            "all": [
                {"field": "event.inputs.amount", "op": "lte", "value": 100},
                {"field": "event.inputs.goodwill", "op": "eq", "value": True},
            ]
        },
        "on_false": "stop",
    },
    {
        "type": "auto_reply",
        "config": {"text": "Refund of {{ event.inputs.amount }} approved: {{ event.inputs.reason }}"},
    },
    {"type": "add_tag", "config": {"tags": ["{{ event.payload.inputs.tag }}"]}},
]


@pytest.fixture
def refund_workflow(make_workflow):
    workflow = make_workflow(
        "manual",
        REFUND_STEPS,
        {
            "inputs": {
                "type": "object",
                "required": ["reason"],
                "properties": {"reason": {"type": "string", "description": "Why the customer gets a refund."}},
            }
        },
        name="Goodwill refund",
    )
    workflow.description = "Approve a small goodwill refund and tell the customer."
    workflow.save(update_fields=["description"])
    return workflow


def test_discovery_lists_active_manual_workflows_only(manager_client, make_workflow, refund_workflow):
    make_workflow("manual", [], name="Draft tool", status="draft")
    make_workflow("message.created", [], name="Not callable")
    body = manager_client.get("/api/workflows/callable/").json()
    assert body["count"] == 1
    [entry] = body["results"]
    assert (entry["id"], entry["name"]) == (refund_workflow.pk, "Goodwill refund")
    assert entry["description"] == "Approve a small goodwill refund and tell the customer."
    assert entry["run_url"] == f"/api/workflows/{refund_workflow.pk}/run/"
    assert manager_client.get("/api/ai/workflows/").json() == body


def test_input_schema_is_derived_from_the_definition_and_the_declared_schema(manager_client, refund_workflow):
    schema = manager_client.get("/api/ai/workflows/").json()["results"][0]["input_schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert {name: spec["type"] for name, spec in schema["properties"].items()} == {
        "amount": "number",
        "goodwill": "boolean",
        "reason": "string",
        "tag": "string",
    }
    assert schema["properties"]["reason"]["description"] == "Why the customer gets a refund."
    assert schema["required"] == ["reason"]
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"reason": "late delivery", "amount": 20, "goodwill": True})
    assert not validator.is_valid({"amount": "twenty"})


def test_tool_definition_is_ready_for_llm_function_calling(manager_client, refund_workflow):
    tool = manager_client.get("/api/ai/workflows/").json()["results"][0]["tool"]
    assert tool["type"] == "function"
    assert tool["function"]["name"] == f"workflow_{refund_workflow.pk}_goodwill_refund"
    parameters = tool["function"]["parameters"]
    jsonschema.Draft202012Validator.check_schema(parameters)
    assert parameters["required"] == ["conversation", "inputs"]


def test_agent_picks_from_discovery_and_runs_through_the_api(manager_client, refund_workflow, conversation):
    [entry] = manager_client.get("/api/workflows/callable/").json()["results"]
    call = {
        "conversation": conversation.pk,
        "inputs": {"reason": "parcel lost", "amount": 40, "goodwill": True, "tag": "goodwill"},
    }
    jsonschema.validate(call, entry["tool"]["function"]["parameters"])
    response = manager_client.post(entry["run_url"], call, format="json")
    assert response.status_code == 201, response.json()
    sweep_once()
    run = WorkflowRun.objects.get(pk=response.json()["id"])
    assert run.status == "succeeded", run.error
    [listed] = runs_through_api(manager_client, entry["id"])
    assert (listed["id"], listed["conversation"], listed["event"]) == (run.pk, conversation.pk, str(run.event_id))
    assert step_summary(listed) == [
        (0, "condition", "succeeded"),
        (1, "auto_reply", "succeeded"),
        (2, "add_tag", "succeeded"),
    ]
    assert run.event.payload["inputs"]["reason"] == "parcel lost"
    assert conversation.messages.last().body == "Refund of 40 approved: parcel lost"
    assert list(conversation.tags.values_list("name", flat=True)) == ["goodwill"]


def test_inputs_decide_the_run_through_conditions(manager_client, refund_workflow, conversation):
    response = manager_client.post(
        f"/api/workflows/{refund_workflow.pk}/run/",
        {"conversation": conversation.pk, "inputs": {"reason": "big", "amount": 500, "goodwill": True}},
        format="json",
    )
    assert response.status_code == 201
    sweep_once()
    assert WorkflowRun.objects.get(pk=response.json()["id"]).status == "stopped"
    assert not conversation.messages.exists()


def test_discovery_costs_the_same_queries_for_more_workflows(manager_client, make_workflow):
    make_workflow("manual", REFUND_STEPS, name="one")
    with CaptureQueriesContext(connection) as few:
        manager_client.get("/api/ai/workflows/")
    for index in range(4):
        make_workflow("manual", REFUND_STEPS, name=f"more {index}")
    with CaptureQueriesContext(connection) as many:
        assert manager_client.get("/api/ai/workflows/").json()["count"] == 5
    assert len(many) == len(few)


def test_discovery_is_for_those_who_may_run_workflows(agent_client, anon_client, refund_workflow):
    assert agent_client.get("/api/workflows/callable/").status_code == 403
    assert anon_client.get("/api/ai/workflows/").status_code == 401


def test_running_a_workflow_that_is_not_manual_is_a_400(manager_client, make_workflow, conversation):
    workflow = make_workflow("message.created", [])
    response = manager_client.post(
        f"/api/workflows/{workflow.pk}/run/", {"conversation": conversation.pk}, format="json"
    )
    assert response.status_code == 400

"""The workflows endpoints (docs/managers.md, docs/api.md): CRUD with versions, validation errors naming step and key,
lifecycle actions, export/import, and who may do what."""

import json

import pytest

from workflows.models import Workflow, WorkflowVersion

URL = "/api/workflows/"


def body(**overrides) -> dict:
    definition = {
        "name": "VIP refunds",
        "description": "Tag refund requests of VIPs",
        "status": "active",
        "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        "steps": [
            {
                "type": "condition",
                "config": {"all": [{"field": "contact.attributes.vip", "op": "eq", "value": True}]},
                "on_false": "stop",
            },
            {"type": "add_tag", "config": {"tags": ["refund"]}},
        ],
    }
    return {**definition, **overrides}


@pytest.fixture
def created(manager_client) -> dict:
    response = manager_client.post(URL, body(), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_returns_the_definition_with_id_and_version_1(manager_client):
    response = manager_client.post(URL, body(), format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["version"] == 1 and isinstance(data["id"], int)
    assert {key: data[key] for key in ("name", "description", "status", "trigger", "steps")} == body()
    assert data["stats"]["executions"] == 0


def test_get_returns_the_same_shape(manager_client, created):
    data = manager_client.get(f"{URL}{created['id']}/").json()
    assert data == created


def test_list_is_paginated(manager_client, created):
    data = manager_client.get(URL).json()
    assert data["count"] == 1 and data["results"][0]["id"] == created["id"]


def test_list_filters_by_status(manager_client, created):
    manager_client.post(URL, body(name="Draft one", status="draft"), format="json")
    names = [w["name"] for w in manager_client.get(URL, {"status": "draft"}).json()["results"]]
    assert names == ["Draft one"]


def test_put_saves_a_new_version_and_keeps_the_previous(manager_client, created):
    response = manager_client.put(f"{URL}{created['id']}/", body(name="VIP refunds v2"), format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    versions = WorkflowVersion.objects.filter(workflow_id=created["id"]).order_by("version")
    assert [(v.version, v.definition["name"]) for v in versions] == [(1, "VIP refunds"), (2, "VIP refunds v2")]


def test_put_without_status_keeps_the_current_status(manager_client, created):
    definition = body()
    del definition["status"]
    response = manager_client.put(f"{URL}{created['id']}/", definition, format="json")
    assert response.json()["status"] == "active"


def test_patch_merges_over_the_current_definition(manager_client, created):
    response = manager_client.patch(f"{URL}{created['id']}/", {"description": "new words"}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["description"] == "new words" and data["steps"] == created["steps"] and data["version"] == 2


def test_patch_steps_is_validated_whole(manager_client, created):
    response = manager_client.patch(f"{URL}{created['id']}/", {"steps": [{"type": "teleport"}]}, format="json")
    assert response.status_code == 400
    assert "steps[0].type" in response.json()
    assert Workflow.objects.get(pk=created["id"]).version == 1


def test_body_read_back_can_be_put_again(manager_client, created):
    response = manager_client.put(f"{URL}{created['id']}/", created, format="json")
    assert response.status_code == 200, response.json()


def test_delete(manager_client, created):
    assert manager_client.delete(f"{URL}{created['id']}/").status_code == 204
    assert not Workflow.objects.filter(pk=created["id"]).exists()


def test_activate_and_deactivate(manager_client):
    workflow = manager_client.post(URL, body(status="draft"), format="json").json()
    activated = manager_client.post(f"{URL}{workflow['id']}/activate/")
    assert activated.status_code == 200
    assert (activated.json()["status"], activated.json()["version"]) == ("active", 2)
    deactivated = manager_client.post(f"{URL}{workflow['id']}/deactivate/").json()
    assert (deactivated["status"], deactivated["version"]) == ("inactive", 3)


def test_duplicate_is_a_draft_copy(manager_client, created):
    response = manager_client.post(f"{URL}{created['id']}/duplicate/")
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != created["id"] and copy["name"] == "VIP refunds (copy)" and copy["status"] == "draft"
    assert copy["steps"] == created["steps"] and copy["trigger"] == created["trigger"]


def test_export_is_a_json_download(manager_client, created):
    response = manager_client.get(f"{URL}{created['id']}/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="workflow-{created["id"]}-vip-refunds.json"'
    assert json.loads(response.content) == {**body(), "order": created["order"], "stop_processing": False}


def test_export_then_import_round_trip(manager_client, created):
    exported = json.loads(manager_client.get(f"{URL}{created['id']}/export/").content)
    response = manager_client.post(f"{URL}import/", exported, format="json")
    assert response.status_code == 201
    imported = response.json()
    assert imported["id"] != created["id"] and imported["version"] == 1
    assert {k: imported[k] for k in exported} == exported


def test_import_wrapped_body_without_status_is_a_draft(manager_client):
    definition = body()
    del definition["status"]
    response = manager_client.post(f"{URL}import/", {"workflow": definition}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "draft"


def test_import_validates(manager_client):
    response = manager_client.post(f"{URL}import/", {"workflow": body(steps=[{"type": "nope"}])}, format="json")
    assert response.status_code == 400
    assert "steps[0].type" in response.json()
    assert not Workflow.objects.exists()


# Invalid definitions: each is a 400 whose key names the step and the key ------------------------------------

CONDITION = {"type": "condition", "config": {"all": [{"field": "conversation.status", "op": "eq", "value": "open"}]}}

INVALID = {
    "unknown step type": ({"steps": [CONDITION, {"type": "teleport", "config": {}}]}, "steps[1].type"),
    "missing required key": ({"steps": [{"type": "add_tag", "config": {}}]}, "steps[0].config.tags"),
    "bad regex in trigger": (
        {"trigger": {"type": "message.created", "config": {"content_regex": "(unclosed"}}},
        "trigger.config.content_regex",
    ),
    "bad regex in condition": (
        {
            "steps": [
                {
                    "type": "condition",
                    "config": {
                        "all": [
                            {"field": "message.body", "op": "eq", "value": "x"},
                            {"field": "message.body", "op": "matches", "value": "[z-a]"},
                        ]
                    },
                }
            ]
        },
        "steps[0].config.all[1].value",
    ),
    "unknown field": (
        {
            "steps": [
                {"type": "condition", "config": {"any": [{"field": "conversation.colour", "op": "eq", "value": "red"}]}}
            ]
        },
        "steps[0].config.any[0].field",
    ),
    "unknown operator": (
        {
            "steps": [
                {
                    "type": "condition",
                    "config": {"all": [{"field": "conversation.status", "op": "approximately", "value": "open"}]},
                }
            ]
        },
        "steps[0].config.all[0].op",
    ),
    "bad on_false": ({"steps": [{**CONDITION, "on_false": "explode"}]}, "steps[0].on_false"),
    "bad status": ({"status": "paused"}, "status"),
    "bad trigger type": ({"trigger": {"type": "moon.full", "config": {}}}, "trigger.type"),
    "bad template syntax": (
        {"steps": [{"type": "auto_reply", "config": {"text": "Hi {{ contact.name "}}]},
        "steps[0].config.text",
    ),
    "wait without duration": ({"steps": [{"type": "wait", "config": {}}]}, "steps[0].config.minutes"),
    "non-list steps": ({"steps": {"type": "add_tag"}}, "steps"),
    "non-object config": ({"steps": [{"type": "add_tag", "config": ["refund"]}]}, "steps[0].config"),
    "unknown trigger config key": (
        {"trigger": {"type": "message.created", "config": {"colour": "red"}}},
        "trigger.config",
    ),
    "bad enum in change_status": (
        {"steps": [{"type": "change_status", "config": {"status": "sleeping"}}]},
        "steps[0].config.status",
    ),
    "in without a list": (
        {
            "steps": [
                {
                    "type": "condition",
                    "config": {"all": [{"field": "conversation.priority", "op": "in", "value": "high"}]},
                }
            ]
        },
        "steps[0].config.all[0].value",
    ),
    "empty name": ({"name": "  "}, "name"),
    "missing trigger": ({"trigger": None}, "trigger"),
    "unknown step key": (
        {"steps": [{"type": "add_tag", "config": {"tags": ["a"]}, "colour": "red"}]},
        "steps[0].colour",
    ),
    "unknown top-level key": ({"colour": "red"}, "colour"),
    "bad channel in trigger": (
        {"trigger": {"type": "conversation.created", "config": {"channels": ["pigeon"]}}},
        "trigger.config.channels[0]",
    ),
    "non-object step": ({"steps": ["add_tag"]}, "steps[0]"),
    "nested operator deep in a later step": (
        {
            "steps": [
                CONDITION,
                CONDITION,
                {
                    "type": "condition",
                    "config": {
                        "all": [
                            {
                                "any": [
                                    {"field": "contact.name", "op": "is_set"},
                                    {"field": "vars.x", "op": "nope", "value": 1},
                                ]
                            }
                        ]
                    },
                },
            ]
        },
        "steps[2].config.all[0].any[1].op",
    ),
    "private attribute in a template": (
        {"steps": [{"type": "auto_reply", "config": {"text": "{{ contact.__class__ }}"}}]},
        "steps[0].config.text",
    ),
    "schedule without interval": (
        {"trigger": {"type": "schedule", "config": {"match": {}}}},
        "trigger.config.interval_minutes",
    ),
    "schedule match that is no database query": (
        {
            "trigger": {
                "type": "schedule",
                "config": {
                    "interval_minutes": 5,
                    "match": {"all": [{"field": "message.body", "op": "eq", "value": "x"}]},
                },
            }
        },
        "trigger.config.match.all[0].field",
    ),
    "bad sla metric": (
        {"trigger": {"type": "sla.breached", "config": {"metrics": ["lunch"]}}},
        "trigger.config.metrics[0]",
    ),
    "negative wait": ({"steps": [{"type": "wait", "config": {"minutes": -5}}]}, "steps[0].config.minutes"),
    "bad variable name": (
        {"steps": [{"type": "set_variable", "config": {"name": "1st", "value": "x"}}]},
        "steps[0].config.name",
    ),
    "bad route strategy": (
        {"steps": [{"type": "route", "config": {"team": "Support", "strategy": "random"}}]},
        "steps[0].config.strategy",
    ),
    "schedule_event without name": (
        {"steps": [{"type": "schedule_event", "config": {"minutes": 5}}]},
        "steps[0].config.name",
    ),
}


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_invalid_definition_is_a_400_naming_step_and_key(manager_client, case):
    overrides, key = INVALID[case]
    response = manager_client.post(URL, body(**overrides), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert key in errors, errors
    assert all(isinstance(message, str) and message for message in errors[key])
    assert not Workflow.objects.exists()


@pytest.mark.parametrize("payload", [[], "text", 42, None])
def test_a_body_that_is_not_an_object_is_a_400(manager_client, payload):
    response = manager_client.post(URL, json.dumps(payload), content_type="application/json")
    assert response.status_code == 400


def test_invalid_update_keeps_the_version(manager_client, created):
    response = manager_client.put(f"{URL}{created['id']}/", body(status="paused"), format="json")
    assert response.status_code == 400 and "status" in response.json()
    assert manager_client.get(f"{URL}{created['id']}/").json()["version"] == 1


# Who may do what ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", URL),
        ("post", URL),
        ("get", "/api/workflow-runs/"),
        ("get", "/api/analytics/workflows/"),
    ],
)
def test_agents_get_403(agent_client, method, path):
    assert getattr(agent_client, method)(path, {}, format="json").status_code == 403


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", URL),
        ("post", URL),
        ("get", "/api/workflow-runs/"),
        ("get", "/api/analytics/workflows/"),
    ],
)
def test_anonymous_get_401(anon_client, method, path):
    assert getattr(anon_client, method)(path, {}, format="json").status_code == 401


def test_agent_cannot_act_on_a_workflow(agent_client, manager_client, created):
    for action in ("activate", "deactivate", "duplicate", "test", "run"):
        assert agent_client.post(f"{URL}{created['id']}/{action}/").status_code == 403
    assert agent_client.delete(f"{URL}{created['id']}/").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        f"{URL}999999/",
        f"{URL}abc/",
        f"{URL}999999/export/",
        "/api/workflow-runs/999999/",
        "/api/workflow-runs/abc/",
        f"{URL}99999999999999999999999/",
    ],
)
def test_unknown_ids_are_404(manager_client, path):
    response = manager_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_unknown_workflow_actions_are_404(manager_client):
    for action in ("activate", "deactivate", "duplicate", "test", "run"):
        assert manager_client.post(f"{URL}424242/{action}/", {}, format="json").status_code == 404

"""`branch` (docs/managers.md) end to end: a workflow made over the API takes exactly one path — the first branch whose
condition holds, else `else` — nested up to 3 deep; every step result names its `path`; a failed step inside a
branch is retried from there; dry runs and explanations name the path taken.
"""

import json
import re

import pytest

from conversations import services
from tests.support.people import make_user
from tests.support.runs import drain
from workflows import services as workflow_services
from workflows.engine.sweep import sweep_once
from workflows.models import Workflow

URL = "/api/workflows/"
RUNS = "/api/workflow-runs/"


def tag(name):
    return {"type": "add_tag", "config": {"tags": [name]}}


def vip_is(value):
    return {"all": [{"field": "contact.attributes.vip", "op": "eq", "value": value}]}


def plan_is(value):
    return {"all": [{"field": "contact.attributes.plan", "op": "eq", "value": value}]}


ROUTE_BY_PLAN = {
    "type": "branch",
    "config": {
        "branches": [
            {"name": "VIP", "condition": vip_is(True), "steps": [tag("vip"), tag("retention")]},
            {"name": "Billing", "condition": plan_is("billing"), "steps": [tag("billing")]},
        ],
        "else": [tag("support")],
    },
}


@pytest.fixture
def flow(manager_client):
    def create(*steps) -> int:
        body = {
            "name": "Branches",
            "status": "active",
            "steps": list(steps),
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        }
        response = manager_client.post(URL, body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    return create


def customer(attributes):
    contact = services.contact_create(name="Ada", email="ada@example.com", attributes=attributes)
    conversation = services.conversation_open(contact=contact, channel="email", subject="Help")
    services.message_create(conversation=conversation, body="Hello", sender_type="customer")
    drain()
    return conversation


def the_run(client, conversation) -> dict:
    (run,) = client.get(RUNS, {"conversation": conversation.pk}).json()["results"]
    return client.get(f"{RUNS}{run['id']}/").json()


def tags(conversation) -> list[str]:
    return sorted(conversation.tags.values_list("name", flat=True))


@pytest.mark.parametrize(
    "attributes, path, taken, expected_tags",
    [
        ({"vip": True, "plan": "billing"}, "VIP", ["1.1.0", "1.1.1"], ["retention", "vip"]),
        ({"plan": "billing"}, "Billing", ["1.2.0"], ["billing"]),
        ({"plan": "basic"}, "else", ["1.3.0"], ["support"]),
    ],
)
def test_exactly_one_path_runs(flow, manager_client, attributes, path, taken, expected_tags):
    flow(tag("seen"), ROUTE_BY_PLAN, tag("done"))
    conversation = customer(attributes)
    run = the_run(manager_client, conversation)
    assert run["status"] == "succeeded"
    assert [(step["path"], step["position"]) for step in run["steps"]] == [
        ("0", 0),
        ("1", 1),
        *[(one, 1) for one in taken],
        ("2", 2),
    ]
    assert run["steps"][1]["output"] == {"path": path}
    assert tags(conversation) == sorted(["seen", "done", *expected_tags])


def nest(depth: int) -> dict:
    """A branch `depth` deep whose innermost path tags `deep`; every condition holds."""
    inner = [tag("deep")]
    for _ in range(depth):
        inner = [
            {"type": "branch", "config": {"branches": [{"name": "yes", "condition": vip_is(True), "steps": inner}]}}
        ]
    return inner[0]


def test_branches_nest_three_deep(flow, manager_client):
    flow(nest(3))
    conversation = customer({"vip": True})
    run = the_run(manager_client, conversation)
    assert [step["path"] for step in run["steps"]] == ["0", "0.1.0", "0.1.0.1.0", "0.1.0.1.0.1.0"]
    assert tags(conversation) == ["deep"]


def test_a_fourth_level_is_refused_naming_the_step(manager_client):
    body = {"name": "Too deep", "trigger": {"type": "message.created", "config": {}}, "steps": [tag("x"), nest(4)]}
    response = manager_client.post(URL, body, format="json")
    assert response.status_code == 400
    key = "steps[1].config.branches[0].steps[0].config.branches[0].steps[0].config.branches[0].steps[0].type"
    assert key in response.json(), response.json()


def test_nested_steps_are_validated_and_named_by_path(manager_client):
    bad = {
        "type": "branch",
        "config": {
            "branches": [
                {
                    "name": "VIP",
                    "condition": vip_is(True),
                    "steps": [
                        tag("a"),
                        {"type": "route", "config": {"team": "No such team", "strategy": "least_busy"}},
                    ],
                }
            ]
        },
    }
    body = {
        "name": "Bad nested",
        "status": "active",
        "trigger": {"type": "message.created", "config": {}},
        "steps": [bad],
    }
    errors = manager_client.post(URL, body, format="json").json()
    assert "steps[0].config.branches[0].steps[1].config.team" in errors, errors
    unknown = {
        "type": "branch",
        "config": {"branches": [{"name": "x", "condition": vip_is(True), "steps": [{"type": "explode"}]}]},
    }
    errors = manager_client.post(URL, {**body, "steps": [unknown]}, format="json").json()
    assert errors["steps[0].config.branches[0].steps[0].type"][0].startswith("Step 0.1.0:")
    twice = {
        "type": "branch",
        "config": {"branches": [{"name": "a", "condition": vip_is(True)}, {"name": "A", "condition": vip_is(False)}]},
    }
    assert (
        "steps[0].config.branches[1].name" in manager_client.post(URL, {**body, "steps": [twice]}, format="json").json()
    )


def test_skip_next_inside_a_branch_skips_its_sibling(flow, manager_client):
    flow(
        {
            "type": "branch",
            "config": {
                "branches": [
                    {
                        "name": "all",
                        "condition": vip_is(True),
                        "steps": [
                            {"type": "condition", "config": vip_is(False), "on_false": "skip_next"},
                            nest(1),
                            tag("after"),
                        ],
                    }
                ]
            },
        },
        tag("end"),
    )
    conversation = customer({"vip": True})
    run = the_run(manager_client, conversation)
    assert [(step["path"], step["status"]) for step in run["steps"]] == [
        ("0", "succeeded"),
        ("0.1.0", "succeeded"),
        ("0.1.1", "skipped"),
        ("0.1.2", "succeeded"),
        ("1", "succeeded"),
    ]
    assert tags(conversation) == ["after", "end"]


def test_retry_from_a_failed_step_inside_a_branch(flow, manager_client, httpserver, settings):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]  # the fake CRM is a local server
    httpserver.expect_oneshot_request("/crm").respond_with_data("no", status=400)
    httpserver.expect_request("/crm").respond_with_json({"ok": True})
    call = {"type": "http_request", "config": {"url": httpserver.url_for("/crm"), "method": "POST", "save_as": "crm"}}
    flow(ROUTE_BY_PLAN | {"config": {**ROUTE_BY_PLAN["config"], "else": [tag("before"), call, tag("after")]}})
    conversation = customer({"plan": "basic"})
    failed = the_run(manager_client, conversation)
    assert failed["status"] == "failed" and "Step 0.3.1 (http_request) failed" in failed["error"]
    assert manager_client.post(f"{RUNS}{failed['id']}/retry/", {}, format="json").status_code in (200, 202)
    sweep_once()
    run = the_run(manager_client, conversation)
    assert run["status"] == "succeeded", run
    assert [(step["path"], step["status"]) for step in run["steps"]] == [
        ("0", "succeeded"),
        ("0.3.0", "succeeded"),
        ("0.3.1", "succeeded"),
        ("0.3.2", "succeeded"),
    ]
    assert tags(conversation) == ["after", "before"]


def test_dry_run_names_the_path_taken(flow, manager_client, conversation):
    workflow = flow(ROUTE_BY_PLAN, tag("done"))
    services.contact_update(contact=conversation.contact, attributes_patch={"vip": None, "plan": "billing"})
    report = manager_client.post(f"{URL}{workflow}/test/", {"conversation": conversation.pk}, format="json").json()
    assert [(step["path"], step["status"]) for step in report["steps"]] == [
        ("0", "would_run"),
        ("0.1.0", "not_reached"),
        ("0.1.1", "not_reached"),
        ("0.2.0", "would_run"),
        ("0.3.0", "not_reached"),
        ("1", "would_run"),
    ]
    assert report["steps"][0]["output"] == {"path": "Billing"}


def test_linear_definitions_keep_their_paths(flow, manager_client):
    flow(tag("a"), tag("b"))
    run = the_run(manager_client, customer({}))
    assert [(step["path"], step["position"]) for step in run["steps"]] == [("0", 0), ("1", 1)]


def test_explain_names_the_path_of_a_condition_that_stopped_inside_a_branch(flow, manager_client):
    flow(
        {
            "type": "branch",
            "config": {
                "branches": [
                    {
                        "name": "VIP",
                        "condition": vip_is(True),
                        "steps": [
                            tag("vip"),
                            {"type": "condition", "config": plan_is("gold"), "on_false": "stop"},
                            tag("gold"),
                        ],
                    }
                ]
            },
        }
    )
    conversation = customer({"vip": True, "plan": "silver"})
    event = conversation.events.get(type="message.created")
    (entry,) = manager_client.get(f"/api/events/{event.pk}/explain/").json()["workflows"]
    assert entry["outcome"] == "stopped_at_condition"
    assert (entry["step"]["path"], entry["step"]["position"]) == ("0.1.1", 0)
    assert "stopped at step 0.1.1 (in a branch)" in entry["reason"]
    assert tags(conversation) == ["vip"]


def test_the_admin_editor_edits_nested_step_cards(flow, manager, client):
    workflow_id = flow(tag("seen"), ROUTE_BY_PLAN)
    client.force_login(manager)
    url = f"/admin/workflows/workflow/{workflow_id}/change/"
    html = client.get(url).content.decode()
    for name, value in (
        ("steps[1].config.branches[0].name", "VIP"),
        ("steps[1].config.branches[0].condition.all[0].field", "contact.attributes.vip"),
        ("steps[1].config.branches[1].steps[0].type", "add_tag"),
        ("steps[1].config.else[0].type", "add_tag"),
    ):
        assert re.search(rf'name="{re.escape(name)}"[^>]*value="{re.escape(value)}"', html), name
    assert 'name="steps[1].config.else[0].config.tags"' in html and ">1.3.0<" in html
    form = {
        "name": "Branches",
        "description": "",
        "status": "active",
        "trigger.type": "message.created",
        "trigger.config.sender_types": ["customer"],
        "steps[0].type": "add_tag",
        "steps[0].config.tags": "seen",
        "steps[1].type": "branch",
        "steps[1].config.branches[0].name": "VIP",
        "steps[1].config.branches[0].condition.all[0].field": "contact.attributes.vip",
        "steps[1].config.branches[0].condition.all[0].op": "eq",
        "steps[1].config.branches[0].condition.all[0].value": "true",
        "steps[1].config.branches[0].steps[0].type": "add_tag",
        "steps[1].config.branches[0].steps[0].config.tags": "vip\nretention",
        "steps[1].config.branches[1].name": "Billing",
        "steps[1].config.branches[1].condition.all[0].field": "contact.attributes.plan",
        "steps[1].config.branches[1].condition.all[0].op": "eq",
        "steps[1].config.branches[1].condition.all[0].value": "billing",
        "steps[1].config.branches[1].steps[0].type": "add_tag",
        "steps[1].config.branches[1].steps[0].config.tags": "billing",
        "steps[1].config.else[0].type": "route",
        "steps[1].config.else[0].config.team": "No such team",
        "steps[1].config.else[0].config.strategy": "least_busy",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200  # the nested error lands on the nested field
    page = refused.content.decode()
    start = page.index('data-field="steps[1].config.else[0].config.team"')
    assert "errorlist" in page[start : page.find('class="wf-field', start + 10)]
    form["steps[1].config.else[0].type"], form["steps[1].config.else[0].config.tags"] = "add_tag", "support"
    del form["steps[1].config.else[0].config.team"], form["steps[1].config.else[0].config.strategy"]
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Workflow.objects.get(pk=workflow_id)
    branch = workflow_services.workflow_definition(saved)["steps"][1]
    assert saved.version == 2
    assert branch["config"]["branches"][0] == {
        "name": "VIP",
        "condition": vip_is(True),
        "steps": [tag("vip") | {"config": {"tags": ["vip", "retention"]}}],
    }
    assert branch["config"]["branches"][1]["steps"] == [tag("billing")]
    assert branch["config"]["else"] == [tag("support")]


def test_the_admin_run_page_shows_each_step_with_its_path(flow, manager, client):
    flow(tag("seen"), ROUTE_BY_PLAN, tag("done"))
    conversation = customer({"plan": "billing"})
    client.force_login(manager)
    run = conversation.workflow_runs.get()
    html = client.get(f"/admin/workflows/workflowrun/{run.pk}/change/").content.decode()
    assert "1.2.0" in html and "Add tag: tags billing" in html and "Add tag: tags done" in html


def test_a_webhook_secret_inside_a_branch_is_write_only(manager_client):
    from tests.support.outbound import SECRET
    from workflows.steps.registry import WRITE_ONLY_MASK

    hook = {"type": "webhook", "config": {"url": "https://example.com/h", "secret": SECRET}}
    definition = {
        "name": "Nested hook",
        "status": "draft",
        "trigger": {"type": "conversation.created", "config": {}},
        "steps": [
            {"type": "branch", "config": {"branches": [{"name": "VIP", "condition": vip_is(True), "steps": [hook]}]}}
        ],
    }
    created = manager_client.post(URL, definition, format="json")
    assert created.status_code == 201, created.json()
    workflow_id = created.json()["id"]
    read = manager_client.get(f"{URL}{workflow_id}/").json()
    nested = read["steps"][0]["config"]["branches"][0]["steps"][0]
    assert nested["config"]["secret"] == WRITE_ONLY_MASK and SECRET not in json.dumps(read)
    assert manager_client.put(f"{URL}{workflow_id}/", read, format="json").status_code == 200
    stored = workflow_services.workflow_definition(Workflow.objects.get(pk=workflow_id), reveal="all")
    assert stored["steps"][0]["config"]["branches"][0]["steps"][0]["config"]["secret"] == SECRET


@pytest.mark.django_db(transaction=True)
def test_editor_in_browser_builds_a_branch_with_nested_cards(live_server, new_page, shot, roles):
    make_user("boss", "Support managers")
    page = new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/workflows/workflow/add/")
    page.fill("#wf-name", "Route by plan")
    page.select_option("#wf-trigger-type", "conversation.created")
    page.select_option(".wf-steps-module > .wf-add-step .wf-add-type", "branch")
    page.fill('input[name="steps[0].config.branches[0].name"]', "VIP")
    page.fill('input[name="steps[0].config.branches[0].condition.all[0].field"]', "contact.attributes.vip")
    page.fill('input[name="steps[0].config.branches[0].condition.all[0].value"]', "true")
    page.locator(".wf-branches > .wf-branch").first.locator(".wf-add-nested .wf-add-type").select_option("add_tag")
    page.fill('textarea[name="steps[0].config.branches[0].steps[0].config.tags"]', "vip")
    page.click(".wf-add-branch")
    page.fill('input[name="steps[0].config.branches[1].name"]', "Enterprise")
    page.fill('input[name="steps[0].config.branches[1].condition.all[0].field"]', "contact.attributes.plan")
    page.fill('input[name="steps[0].config.branches[1].condition.all[0].value"]', "enterprise")
    page.locator(".wf-else .wf-add-nested .wf-add-type").select_option("add_tag")
    page.fill('textarea[name="steps[0].config.else[0].config.tags"]', "standard")
    page.select_option(".wf-steps-module > .wf-add-step .wf-add-type", "add_tag")
    page.fill('textarea[name="steps[1].config.tags"]', "routed")
    page.click('input[name="_continue"]')
    page.wait_for_selector(".messagelist")
    shot(page, "flow-branch-editor-saved")
    definition = workflow_services.workflow_definition(Workflow.objects.get())
    assert definition["steps"] == [
        {
            "type": "branch",
            "config": {
                "branches": [
                    {"name": "VIP", "condition": vip_is(True), "steps": [tag("vip")]},
                    {"name": "Enterprise", "condition": plan_is("enterprise"), "steps": []},
                ],
                "else": [tag("standard")],
            },
        },
        tag("routed"),
    ]


def test_a_team_deleted_later_breaks_a_workflow_that_routes_to_it_inside_a_branch(flow, manager_client):
    team = services.team_create(name="Retention")
    workflow = flow(
        {
            "type": "branch",
            "config": {
                "branches": [
                    {
                        "name": "VIP",
                        "condition": vip_is(True),
                        "steps": [{"type": "route", "config": {"team": "Retention", "strategy": "least_busy"}}],
                    }
                ]
            },
        }
    )
    assert manager_client.get(f"{URL}{workflow}/").json()["problems"] == []
    team.delete()
    problems = manager_client.get(f"{URL}{workflow}/").json()["problems"]
    assert len(problems) == 1 and "steps[0].config.branches[0].steps[0].config.team" in json.dumps(problems)

"""The workflow editor: fields generated from trigger and step schemas, posted back as a workflow definition and checked
by the shared validator, whose errors land on the field their key names."""

import re

import pytest

from tests.support.forms import ADD_URL, VIP_FORM
from tests.support.people import make_user
from workflows import services
from workflows.admin.editor import condition_from_post, config_from_post, literal, parse_path
from workflows.models import Workflow, WorkflowVersion
from workflows.steps import step_types
from workflows.triggers.registry import TRIGGER_TYPES

pytestmark = pytest.mark.usefixtures("crm_integration")  # the integration the VIP form names


def field_html(html: str, name: str) -> str:
    """The markup of the editor field whose input is named `name` (up to the next field)."""
    start = html.index(f'data-field="{name}"')
    following = html.find('class="wf-field', start)
    return html[start : following if following != -1 else None]


def leaf_html(html: str, prefix: str) -> str:
    """The markup of one condition row, from its field input to the next row."""
    start = html.index(f'name="{prefix}.field"')
    following = html.find('class="wf-leaf', start)
    return html[start : following if following != -1 else None]


def test_editor_offers_a_config_form_for_every_trigger_and_step_type(browser, contact):
    html = browser.get(ADD_URL).content.decode()
    for name in TRIGGER_TYPES:
        assert f'data-trigger="{name}"' in html
    for name, _ in step_types.items():
        assert f'data-step-template="{name}"' in html
    assert 'name="trigger.config.content_regex"' in html
    assert 'list="wf-fields"' in html
    # the "useful data" sidebar: context fields, and the memory keys contacts really have
    assert 'data-path="conversation.status"' in html and 'data-path="contact.attributes.vip"' in html


def test_manager_creates_workflow_with_typed_config_from_the_editor(browser):
    response = browser.post(ADD_URL, VIP_FORM)
    assert response.status_code == 302, response.content.decode()[:3000]
    workflow = Workflow.objects.get(name="VIP cancellation")
    definition = services.workflow_definition(workflow)
    assert definition["trigger"] == {
        "type": "message.created",
        "config": {"sender_types": ["customer"], "content_contains": ["cancel", "terminate"]},
    }
    condition, tag, http, wait = definition["steps"]
    assert condition == {
        "type": "condition",
        "on_false": "skip_next",
        "config": {
            "all": [
                {"field": "contact.attributes.vip", "op": "eq", "value": True},
                {"any": [{"field": "conversation.channel", "op": "in", "value": ["email", "live_chat"]}]},
            ]
        },
    }
    assert tag["config"] == {"tags": ["cancellation", "vip"]}
    assert http["config"]["timeout_seconds"] == 10
    assert http["config"]["headers"] == [{"key": "Authorization", "value": "Bearer {{ secrets.crm_token }}"}]
    assert http["config"]["values"] == [{"key": "contactName", "value": "{{ contact.name }}", "format": "string"}]
    assert wait["config"] == {"hours": 2}
    assert WorkflowVersion.objects.filter(workflow=workflow, version=1).exists()


def test_bad_trigger_regex_is_shown_on_its_field_and_a_resave_fixes_it(browser):
    bad = {**VIP_FORM, "trigger.config.content_regex": "(unclosed"}
    response = browser.post(ADD_URL, bad)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Invalid regular expression" in field_html(html, "trigger.config.content_regex")
    assert "Invalid regular expression" not in field_html(html, "trigger.config.content_contains")
    assert 'value="(unclosed"' in html  # what the manager typed is kept
    assert not Workflow.objects.exists()

    fixed = browser.post(ADD_URL, {**bad, "trigger.config.content_regex": r"cancel+ation"})
    assert fixed.status_code == 302
    assert Workflow.objects.get().trigger_config["content_regex"] == r"cancel+ation"


def test_condition_error_is_shown_on_its_row(browser):
    response = browser.post(
        ADD_URL,
        {**VIP_FORM, "steps[0].config.all[1].any[0].op": "matches", "steps[0].config.all[1].any[0].value": "[a-"},
    )
    html = response.content.decode()
    assert "Invalid regular expression" in leaf_html(html, "steps[0].config.all[1].any[0]")
    assert "Invalid regular expression" not in leaf_html(html, "steps[0].config.all[0]")


def test_unreadable_number_and_missing_required_key_land_on_their_fields(browser):
    response = browser.post(ADD_URL, {**VIP_FORM, "steps[2].config.timeout_seconds": "ten", "steps[1].config.tags": ""})
    html = response.content.decode()
    assert "Enter a number." in field_html(html, "steps[2].config.timeout_seconds")
    assert "This key is required." in field_html(html, "steps[1].config.tags")


def test_editing_reorders_steps_and_bumps_the_version(browser, make_workflow):
    workflow = make_workflow(
        "message.created",
        [{"type": "add_tag", "config": {"tags": ["a"]}}, {"type": "change_status", "config": {"status": "open"}}],
    )
    page = browser.get(f"/admin/workflows/workflow/{workflow.pk}/change/").content.decode()
    assert 'name="steps[1].config.status"' in page and "Export JSON" in page
    response = browser.post(
        f"/admin/workflows/workflow/{workflow.pk}/change/",
        {
            "name": "Reordered",
            "status": "active",
            "trigger.type": "message.created",
            "steps[0].type": "change_status",
            "steps[0].config.status": "pending",
            "steps[1].type": "add_tag",
            "steps[1].config.tags": "a",
        },
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.version == 2
    assert [(s.position, s.type) for s in workflow.steps.all()] == [(0, "change_status"), (1, "add_tag")]


def test_raw_json_box_saves_for_power_users(browser):
    body = '{"name": "Raw", "trigger": {"type": "manual", "config": {}}, "steps": []}'
    response = browser.post(ADD_URL, {**VIP_FORM, "raw_mode": "1", "definition": body})
    assert response.status_code == 302
    assert Workflow.objects.get().name == "Raw"
    broken = browser.post(ADD_URL, {**VIP_FORM, "raw_mode": "1", "definition": "{nope"})
    assert "Not valid JSON" in broken.content.decode()


def test_parse_path_matches_validator_keys():
    assert parse_path("steps[2].config.all[0].value") == ["steps", 2, "config", "all", 0, "value"]
    assert parse_path("steps[x]") is None and parse_path("csrfmiddlewaretoken") == ["csrfmiddlewaretoken"]


def test_literals_and_condition_values_are_typed():
    assert [literal("true"), literal("42"), literal("2.5"), literal("vip")] == [True, 42, 2.5, "vip"]
    assert condition_from_post({"field": "message.body", "op": "matches", "value": "42"})["value"] == "42"
    assert "value" not in condition_from_post({"field": "contact.email", "op": "is_set", "value": "x"})


def test_config_from_post_reports_json_errors_on_the_key():
    errors: dict = {}
    schema = {"type": "object", "properties": {"inputs": {"type": "object"}, "flag": {"type": "boolean"}}}
    config = config_from_post(schema, {"inputs": "{broken", "flag": "true"}, "trigger.config", errors)
    assert config["flag"] is True
    assert re.match("Not valid JSON", errors["trigger.config.inputs"][0])


# In a real browser: the editor script renames inputs after steps move, so the posted paths stay consistent.


@pytest.mark.django_db(transaction=True)
def test_editor_in_browser_builds_reorders_and_fixes_a_workflow(live_server, new_page, shot, roles):
    make_user("boss", "Support managers")
    page = new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}{ADD_URL}")
    page.fill("#wf-name", "Built in the browser")
    page.select_option("#wf-trigger-type", "conversation.created")
    assert page.locator('[data-trigger="conversation.created"]').is_visible()
    page.select_option("#wf-trigger-type", "message.created")
    page.fill('input[name="trigger.config.content_regex"]', "(unclosed")
    for step_type in ("condition", "add_tag", "auto_reply"):
        page.select_option(".wf-add-type", step_type)
        page.click(".wf-add-step-btn")
    page.fill('input[name="steps[0].config.all[0].field"]', "contact.attributes.vip")
    page.fill('input[name="steps[0].config.all[0].value"]', "true")
    page.locator(".wf-steps > .wf-step").first.locator(".wf-add-group").first.click()
    page.fill('input[name="steps[0].config.all[1].all[0].field"]', "conversation.channel")
    page.locator(".wf-nested .wf-mode").select_option("any")
    page.fill('input[name="steps[0].config.all[1].any[0].value"]', "email")
    page.fill('textarea[name="steps[1].config.tags"]', "vip")
    page.locator(".wf-steps > .wf-step").nth(1).locator(".wf-up").click()  # the tag step goes first
    page.click('textarea[name="steps[2].config.text"]')
    page.click('button.wf-ph[data-path="contact.name"]')  # "useful data" inserts into the focused field
    page.click('input[name="_continue"]')
    error = page.locator('[data-field="trigger.config.content_regex"] .errorlist')
    assert "Invalid regular expression" in error.inner_text()
    shot(page, "g1-editor-bad-regex")
    page.fill('input[name="trigger.config.content_regex"]', "cancel|refund")
    page.click('input[name="_continue"]')
    page.wait_for_selector(".messagelist")
    shot(page, "g1-editor-saved")
    definition = services.workflow_definition(Workflow.objects.get())
    assert [step["type"] for step in definition["steps"]] == ["add_tag", "condition", "auto_reply"]
    assert definition["steps"][1]["config"] == {
        "all": [
            {"field": "contact.attributes.vip", "op": "eq", "value": True},
            {"any": [{"field": "conversation.channel", "op": "eq", "value": "email"}]},
        ]
    }
    assert definition["steps"][2]["config"]["text"] == "{{ contact.name }}"
    assert definition["trigger"]["config"] == {"content_regex": "cancel|refund"}

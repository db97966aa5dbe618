"""Reference pickers in the workflow editor: a team, agent, integration, custom action or SLA policy field is a select
of what exists (a saved value that is not listed, such as a template, stays selected; "Other…" lets a name, an id or a
template be typed), a list of teams gets an "Add a team…" select; and a picked value saves like a typed one."""

import pytest

from conversations import services as conversation_services
from workflows import services
from workflows.integrations.custom_actions import custom_action_save
from workflows.integrations.services import integration_save
from workflows.models import Workflow

ADD_URL = "/admin/workflows/workflow/add/"


def field_html(html: str, name: str) -> str:
    start = html.index(f'data-field="{name}"')
    following = html.find('class="wf-field', start)
    return html[start : following if following != -1 else None]


def editor_of(browser, workflow) -> str:
    return browser.get(f"/admin/workflows/workflow/{workflow.pk}/change/").content.decode()


def make(steps, trigger=None) -> Workflow:
    return services.workflow_create(
        definition={
            "name": "Picked",
            "status": "draft",
            "steps": steps,
            "trigger": trigger or {"type": "conversation.created", "config": {}},
        }
    )


@pytest.fixture
def teams(db):
    return [conversation_services.team_create(name=name) for name in ("Billing", "Retention")]


def test_a_team_field_is_a_select_of_the_teams_with_the_saved_one_chosen(browser, teams):
    workflow = make([{"type": "route", "config": {"team": "Retention", "strategy": "least_busy"}}])
    field = field_html(editor_of(browser, workflow), "steps[0].config.team")
    assert '<select name="steps[0].config.team" data-leaf=".team" data-picker="team"' in field
    assert '<option value="Billing">Billing</option>' in field
    assert '<option value="Retention" selected>Retention</option>' in field
    assert '<option value="__other__">Other: type a team name, id or {{ template }}…</option>' in field


def test_a_templated_or_deleted_value_stays_selected(browser, teams):
    workflow = make(
        [
            {"type": "route", "config": {"team": "{{ contact.attributes.team }}", "strategy": "least_busy"}},
            {"type": "escalate", "config": {"team": "Billing"}},
        ]
    )
    teams[0].delete()
    html = editor_of(browser, workflow)
    assert (
        '<option value="{{ contact.attributes.team }}" selected>{{ contact.attributes.team }}</option>'
        in field_html(html, "steps[0].config.team")
    )
    assert '<option value="Billing" selected>Billing (not found)</option>' in field_html(html, "steps[1].config.team")


def test_integration_and_custom_action_pickers_list_what_exists_and_is_published(browser):
    slack = integration_save(
        name="Slack", base_url="https://slack.example.com/api/", auth={"type": "bearer", "token": "xoxb-1"}
    )
    custom_action_save(integration=slack, name="Lookup", path="/x", published=True)
    custom_action_save(integration=slack, name="Unfinished", path="/y", published=False)
    workflow = make(
        [
            {"type": "slack", "config": {"integration": "Slack", "channel": "#a", "text": "hi"}},
            {"type": "custom_action", "config": {"action": "Lookup"}},
        ]
    )
    html = editor_of(browser, workflow)
    assert '<option value="Slack" selected>Slack</option>' in field_html(html, "steps[0].config.integration")
    action = field_html(html, "steps[1].config.action")
    assert '<option value="Lookup" selected>Lookup</option>' in action and "Unfinished" not in action


def test_lists_of_teams_get_an_add_select(browser, teams):
    workflow = make([], trigger={"type": "conversation.assigned", "config": {"teams": ["Billing"]}})
    field = field_html(editor_of(browser, workflow), "trigger.config.teams")
    assert '<textarea name="trigger.config.teams"' in field
    assert "data-picker-add" in field and '<option value="Retention">Retention</option>' in field


def test_a_picked_team_saves_and_other_posted_without_the_script_is_left_empty(browser, teams):
    form = {
        "name": "Picked",
        "status": "draft",
        "trigger.type": "conversation.created",
        "steps[0].type": "route",
        "steps[0].config.team": "Billing",
        "steps[0].config.strategy": "least_busy",
    }
    assert browser.post(ADD_URL, form).status_code == 302
    assert services.workflow_definition(Workflow.objects.get())["steps"][0]["config"]["team"] == "Billing"
    response = browser.post(ADD_URL, {**form, "name": "Other", "steps[0].config.team": "__other__"})
    assert response.status_code == 200
    assert "name the team" in field_html(response.content.decode(), "steps[0].config.team")

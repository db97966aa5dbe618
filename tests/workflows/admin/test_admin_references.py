"""Admin side of reference checks (docs/managers.md): an unknown team is a form error on its step and key, a workflow
whose team was deleted since shows a "broken" badge in the list (no query per row) and a warning in its editor, and the
list toggle refuses to activate it."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services as conversation_services
from workflows.models import Workflow

LIST_URL = "/admin/workflows/workflow/"


def routing_to(team: str, status: str = "draft") -> dict:
    return {
        "name": f"Route to {team}",
        "description": "",
        "status": status,
        "trigger": {"type": "conversation.created", "config": {}},
        "steps": [{"type": "route", "config": {"team": team, "strategy": "least_busy"}}],
    }


def test_an_unknown_team_is_a_form_error_naming_step_and_key(manager_browser):
    response = manager_browser.post(
        "/admin/workflows/workflow/add/", {"definition": json.dumps(routing_to("Biling")), "raw_mode": "1"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "steps[0].config.team" in html and "No team &quot;Biling&quot;." in html
    assert not Workflow.objects.exists()


def test_a_deleted_team_shows_a_broken_badge_without_a_query_per_row(manager_browser, make_workflow):
    def list_page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as captured:
            html = manager_browser.get(LIST_URL).content.decode()
        return html, len(captured)

    teams = [conversation_services.team_create(name=f"T{index}") for index in range(6)]
    for team in teams[:2]:
        make_workflow("conversation.created", routing_to(team.name)["steps"], name=f"W {team.name}")
    _, two = list_page()
    for team in teams[2:]:
        make_workflow("conversation.created", routing_to(team.name)["steps"], name=f"W {team.name}")
    for team in teams:
        team.delete()
    html, six = list_page()
    assert html.count(">broken</span>") == 6
    assert 'title="steps[0].config.team: No team &quot;T3&quot;."' in html
    assert six == two


def test_the_editor_warns_about_a_deleted_team_and_the_toggle_refuses_to_activate(manager_browser, make_workflow):
    team = conversation_services.team_create(name="Retention")
    workflow = make_workflow("conversation.created", routing_to("Retention")["steps"], status="inactive")
    team.delete()
    page = manager_browser.get(f"{LIST_URL}{workflow.pk}/change/").content.decode()
    assert "Broken: steps[0].config.team: No team &quot;Retention&quot;." in page
    manager_browser.post(f"{LIST_URL}{workflow.pk}/toggle/")
    workflow.refresh_from_db()
    assert workflow.status == "inactive"

"""References in a definition are checked by the one validator (docs/managers.md): a team, agent, integration, custom
action or SLA policy named by id or name that does not exist is a 400 on that step and key; one deleted later makes the
workflow broken (`problems`), which a draft may keep but an active workflow may not."""

import pytest

URL = "/api/workflows/"


def definition(*steps, trigger=None, status="active") -> dict:
    return {
        "name": "Refs",
        "status": status,
        "trigger": trigger or {"type": "conversation.created", "config": {}},
        "steps": list(steps),
    }


def route(team) -> dict:
    return {"type": "route", "config": {"team": team, "strategy": "least_busy"}}


def slack(integration) -> dict:
    return {"type": "slack", "config": {"integration": integration, "channel": "#sales", "text": "hi"}}


@pytest.fixture
def integration(manager_client) -> dict:
    response = manager_client.post(
        "/api/integrations/",
        {
            "name": "Slack",
            "base_url": "https://slack.example.com/api/",
            "auth": {"type": "bearer", "token": "xoxb-1"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def policy(manager_client) -> dict:
    response = manager_client.post(
        "/api/sla-policies/",
        {
            "name": "Gold",
            "position": 1,
            "match": {},
            "business_hours": None,
            "targets": {"first_response": 60},
            "pause_on": [],
            "warning_percent": 80,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_team_named_that_does_not_exist_is_a_400_on_its_step_and_key(manager_client, team):
    response = manager_client.post(URL, definition(route("Support"), route("Biling")), format="json")
    assert response.status_code == 400
    assert response.json() == {"steps[1].config.team": ['No team "Biling".']}


def test_a_team_is_found_by_id_and_by_name_in_any_case(manager_client, team):
    response = manager_client.post(URL, definition(route(team.pk), route("support")), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["problems"] == []


def test_an_unknown_team_id_is_a_400(manager_client, team):
    response = manager_client.post(URL, definition(route(team.pk + 1000)), format="json")
    assert response.json() == {"steps[0].config.team": [f'No team "{team.pk + 1000}".']}


def test_a_templated_team_is_left_to_run_time(manager_client):
    response = manager_client.post(URL, definition(route("{{ contact.attributes.team }}")), format="json")
    assert response.status_code == 201, response.json()


def test_an_unknown_agent_by_username_or_id_is_a_400(manager_client, team, agent):
    ok = {"type": "route", "config": {"agent": "agent", "strategy": "specific"}}
    by_id = {"type": "route", "config": {"agent": agent.pk, "strategy": "specific"}}
    missing = {"type": "route", "config": {"agent": "nobody", "strategy": "specific"}}
    response = manager_client.post(URL, definition(ok, by_id, missing), format="json")
    assert response.json() == {"steps[2].config.agent": ['No agent "nobody".']}


def test_notify_recipients_are_checked_per_list_key(manager_client, team):
    step = {"type": "notify", "config": {"teams": ["Support", "Sales"], "users": ["ghost"], "text": "hi"}}
    response = manager_client.post(URL, definition(step), format="json")
    assert response.json() == {
        "steps[0].config.teams": ['No team "Sales".'],
        "steps[0].config.users": ['No agent "ghost".'],
    }


def test_a_slack_step_whose_integration_is_missing_is_a_400(manager_client, integration):
    response = manager_client.post(
        URL, definition(slack("Slack"), slack(integration["id"]), slack("Slak")), format="json"
    )
    assert response.json() == {"steps[2].config.integration": ['No integration "Slak".']}


def test_a_custom_action_must_exist_and_be_published(manager_client, integration):
    for name, published in (("lookup", True), ("draft", False)):
        created = manager_client.post(
            "/api/custom-actions/",
            {
                "integration": integration["id"],
                "name": name,
                "method": "POST",
                "path": "/x",
                "input_schema": {"type": "object"},
                "output_schema": {"type": "object"},
                "published": published,
            },
            format="json",
        )
        assert created.status_code == 201, created.json()
    steps = [{"type": "custom_action", "config": {"action": name}} for name in ("lookup", "draft", "gone")]
    response = manager_client.post(URL, definition(*steps), format="json")
    assert response.json() == {
        "steps[1].config.action": ['The custom action "draft" is not published.'],
        "steps[2].config.action": ['No custom action "gone".'],
    }


def test_a_trigger_naming_an_unknown_team_or_sla_policy_is_a_400(manager_client, team, policy):
    assigned = {"type": "conversation.assigned", "config": {"teams": ["Support", "Retention"]}}
    response = manager_client.post(URL, definition(trigger=assigned), format="json")
    assert response.json() == {"trigger.config.teams": ['No team "Retention".']}
    breached = {"type": "sla.breached", "config": {"policies": [policy["id"], "Platinum"]}}
    response = manager_client.post(URL, definition(trigger=breached), format="json")
    assert response.json() == {"trigger.config.policies": ['No SLA policy "Platinum".']}


def test_import_checks_references_too(manager_client):
    response = manager_client.post(f"{URL}import/", {"workflow": definition(slack("Nowhere"))}, format="json")
    assert response.status_code == 400
    assert response.json() == {"steps[0].config.integration": ['No integration "Nowhere".']}


def test_a_reference_deleted_later_shows_as_a_problem(manager_client, integration):
    created = manager_client.post(URL, definition(slack("Slack")), format="json").json()
    assert manager_client.delete(f"/api/integrations/{integration['id']}/").status_code == 204
    problems = [{"key": "steps[0].config.integration", "message": 'No integration "Slack".'}]
    assert manager_client.get(f"{URL}{created['id']}/").json()["problems"] == problems
    listed = manager_client.get(URL).json()["results"]
    assert [w["problems"] for w in listed] == [problems]


def test_a_broken_workflow_can_be_deactivated_and_edited_as_a_draft_but_not_activated(manager_client, team):
    created = manager_client.post(URL, definition(route("Support")), format="json").json()
    assert manager_client.delete(f"/api/teams/{team.pk}/").status_code == 204
    assert manager_client.post(f"{URL}{created['id']}/deactivate/").status_code == 200
    renamed = manager_client.patch(f"{URL}{created['id']}/", {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200, renamed.json()
    activated = manager_client.post(f"{URL}{created['id']}/activate/")
    assert activated.status_code == 400
    assert activated.json() == {"steps[0].config.team": ['No team "Support".']}


def test_a_draft_may_not_add_a_new_missing_reference(manager_client, team):
    created = manager_client.post(URL, definition(route("Support"), status="draft"), format="json").json()
    changed = manager_client.patch(f"{URL}{created['id']}/", {"steps": [route("Biling")]}, format="json")
    assert changed.json() == {"steps[0].config.team": ['No team "Biling".']}


def test_a_gallery_template_needing_an_integration_becomes_a_draft_with_its_problem(manager_client):
    used = manager_client.post("/api/workflow-templates/enterprise-upgrade-slack/use/")
    assert used.status_code == 201, used.json()
    workflow = used.json()
    assert workflow["status"] == "draft"
    assert any(p["key"].endswith(".integration") for p in workflow["problems"]), workflow["problems"]
    assert manager_client.post(f"{URL}{workflow['id']}/activate/").status_code == 400


def test_the_list_checks_references_with_one_query_per_kind(manager_client, team, django_assert_max_num_queries):
    for name in ("One", "Two", "Three"):
        created = manager_client.post(URL, {**definition(route("Support")), "name": name}, format="json")
        assert created.status_code == 201
    manager_client.delete(f"/api/teams/{team.pk}/")
    manager_client.get(URL)  # warm the session and permission lookups
    with django_assert_max_num_queries(5):
        listed = manager_client.get(URL).json()["results"]
    assert all(w["problems"] for w in listed)

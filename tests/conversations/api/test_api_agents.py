"""Routing over the API (docs/routing.md): agents, team queue settings, a team's queue, required skills."""

import datetime as dt

import pytest

from conversations import clock, services
from conversations.roles import AGENTS_GROUP
from tests.support.people import client_for, make_user


def test_agents_list_is_paginated_with_status_capacity_skills_and_load(manager_client, agent, team, contact):
    agent.agent_profile.teams.add(team)
    services.agent_update(profile=agent.agent_profile, skills=["German"], capacity=4)
    conversation = services.conversation_open(contact=contact, channel="email", subject="Hi")
    services.conversation_assign(conversation=conversation, assignee=agent)
    body = manager_client.get("/api/agents/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    row = next(row for row in body["results"] if row["id"] == agent.pk)
    assert row == {
        "id": agent.pk,
        "username": "agent",
        "name": "agent",
        "teams": [team.pk],
        "status": "online",
        "capacity": 4,
        "skills": ["german"],
        "open_conversations": 1,
    }


def test_manager_patches_an_agent(manager_client, agent, team):
    response = manager_client.patch(
        f"/api/agents/{agent.pk}/",
        {"status": "away", "capacity": 3, "skills": ["billing"], "teams": [team.pk]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (
        response.json()["status"],
        response.json()["capacity"],
        response.json()["skills"],
        response.json()["teams"],
    ) == ("away", 3, ["billing"], [team.pk])


def test_an_agent_may_change_only_their_own_status(agent_client, agent, roles):
    other = make_user("other", AGENTS_GROUP)
    assert agent_client.patch(f"/api/agents/{agent.pk}/", {"status": "away"}, format="json").json()["status"] == "away"
    assert agent_client.patch(f"/api/agents/{agent.pk}/", {"capacity": 50}, format="json").status_code == 403
    assert agent_client.patch(f"/api/agents/{other.pk}/", {"status": "offline"}, format="json").status_code == 403
    other.agent_profile.refresh_from_db()
    assert other.agent_profile.status == "online"


def test_bad_agent_input_is_a_400_and_a_bad_id_a_404(manager_client, agent):
    response = manager_client.patch(f"/api/agents/{agent.pk}/", {"status": "asleep", "skills": "german"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"status", "skills"}
    assert manager_client.patch("/api/agents/999999/", {"status": "away"}, format="json").status_code == 404
    assert manager_client.get("/api/agents/abc/").status_code == 404


def test_team_queue_settings_and_the_queue_in_take_order(manager_client, agent_client, team, contact):
    response = manager_client.patch(
        f"/api/teams/{team.pk}/",
        {"auto_assign": True, "strategy": "round_robin", "skills_timeout_minutes": 5, "reassign_after_minutes": 30},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert {
        key: response.json()[key]
        for key in ("auto_assign", "strategy", "skills_timeout_minutes", "reassign_after_minutes")
    } == {"auto_assign": True, "strategy": "round_robin", "skills_timeout_minutes": 5, "reassign_after_minutes": 30}
    assert manager_client.patch(f"/api/teams/{team.pk}/", {"strategy": "random"}, format="json").status_code == 400
    with clock.travel(dt.timedelta(minutes=-10)):
        older = services.conversation_open(contact=contact, channel="email", subject="older", team=team)
    urgent = services.conversation_open(
        contact=contact, channel="email", subject="urgent", team=team, priority="urgent"
    )
    newer = services.conversation_open(contact=contact, channel="email", subject="newer", team=team)
    body = agent_client.get(f"/api/teams/{team.pk}/queue/").json()
    assert [row["id"] for row in body["results"]] == [urgent.pk, older.pk, newer.pk]
    assert body["results"][0]["queued_since"] is not None


def test_conversation_required_skills_read_and_patch(agent_client, conversation):
    response = agent_client.patch(
        f"/api/conversations/{conversation.pk}/", {"required_skills": ["German"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["required_skills"] == ["german"]
    assert "queued_since" in response.json()
    bad = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"required_skills": "german"}, format="json")
    assert bad.status_code == 400 and "required_skills" in bad.json()


def test_queue_assigns_through_the_api_once_an_agent_comes_online(
    manager_client, team, contact, roles, django_capture_on_commit_callbacks
):
    ann = make_user("ann", AGENTS_GROUP, status="offline", capacity=1)
    ann.agent_profile.teams.add(team)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.patch(f"/api/teams/{team.pk}/", {"auto_assign": True}, format="json")
        created = manager_client.post(
            "/api/conversations/",
            {"contact": contact.pk, "channel": "email", "subject": "Help", "team": team.pk},
            format="json",
        )
    assert created.json()["assignee"] is None
    with django_capture_on_commit_callbacks(execute=True):
        client_for(ann).patch(f"/api/agents/{ann.pk}/", {"status": "online"}, format="json")
    read = manager_client.get(f"/api/conversations/{created.json()['id']}/").json()
    assert (read["assignee"], read["queued_since"]) == (ann.pk, None)


def test_a_new_agent_without_a_profile_starts_offline_and_is_set_up_with_one_patch(manager_client, roles):
    from django.contrib.auth.models import Group, User

    from conversations.models import AgentProfile

    newbie = User.objects.create_user(username="newbie", is_staff=True)
    newbie.groups.add(Group.objects.get(name=AGENTS_GROUP))
    assert manager_client.get(f"/api/agents/{newbie.pk}/").json()["status"] == "offline"
    response = manager_client.patch(
        f"/api/agents/{newbie.pk}/", {"status": "online", "capacity": 2, "skills": ["german"]}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "online"
    assert AgentProfile.objects.get(user=newbie).skills == ["german"]


@pytest.mark.django_db(transaction=True)  # real commits: the queue runs after the create's own commit
def test_creating_a_conversation_for_an_auto_assign_team_answers_with_its_assignee(
    manager_client, team, contact, roles
):
    ann = make_user("ann", AGENTS_GROUP, capacity=1)
    ann.agent_profile.teams.add(team)
    services.team_update(team=team, auto_assign=True)
    created = manager_client.post(
        "/api/conversations/",
        {"contact": contact.pk, "channel": "email", "subject": "Help", "team": team.pk},
        format="json",
    )
    assert (created.status_code, created.json()["assignee"]) == (201, ann.pk)

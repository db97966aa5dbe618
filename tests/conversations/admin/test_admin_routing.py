"""Routing in admin (docs/routing.md): the Queues page, the one-click status switch, skills and queue settings."""

import datetime as dt

from conversations import clock, services
from conversations.models import AgentProfile, Team
from conversations.roles import AGENTS_GROUP
from tests.support.forms import form_data
from tests.support.people import browser_for, make_user


def test_queue_page_lists_waiting_conversations_in_take_order_with_wait_and_agents(agent_browser, agent, team, contact):
    agent.agent_profile.teams.add(team)
    with clock.travel(dt.timedelta(minutes=-42)):
        older = services.conversation_open(contact=contact, channel="email", subject="Older one", team=team)
    urgent = services.conversation_open(
        contact=contact, channel="email", subject="Urgent one", team=team, priority="urgent"
    )
    page = agent_browser.get(f"/admin/conversations/team/{team.pk}/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("Urgent one") < html.index("Older one")
    assert "42 min" in html
    assert f"agent</td>\n    <td>Online</td>\n    <td>0/{agent.agent_profile.capacity}" in html
    assert urgent.pk and older.pk


def test_status_switch_in_the_header_sets_the_agents_own_status(agent_browser, agent):
    page = agent_browser.get("/admin/")
    assert 'id="agent-status-switch"' in page.content.decode()
    response = agent_browser.post("/admin/conversations/agentprofile/my-status/", {"status": "away", "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.status == "away"
    assert agent_browser.post("/admin/conversations/agentprofile/my-status/", {"status": "asleep"}).status_code == 302
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.status == "away"


def test_manager_sets_skills_as_text_and_going_offline_hands_back(browser, roles, team, contact):
    ann = make_user("ann", AGENTS_GROUP)
    ann.agent_profile.teams.add(team)
    conversation = services.conversation_open(contact=contact, channel="email", subject="Hi", team=team)
    services.conversation_assign(conversation=conversation, assignee=ann)
    profile = ann.agent_profile
    response = browser.post(
        f"/admin/conversations/agentprofile/{profile.pk}/change/",
        {"user": ann.pk, "teams": [team.pk], "capacity": 4, "status": "offline", "skills": "German, billing"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert (profile.skills, profile.status, profile.capacity) == (["german", "billing"], "offline", 4)
    conversation.refresh_from_db()
    assert conversation.assignee is None  # no reply yet: back to the queue


def test_team_page_edits_queue_settings_and_shows_agents_skills(browser, roles, team):
    ann = make_user("ann", AGENTS_GROUP, skills=["german"])
    ann.agent_profile.teams.add(team)
    page = browser.get(f"/admin/conversations/team/{team.pk}/change/")
    assert "ann (Online): german" in page.content.decode()
    response = browser.post(
        f"/admin/conversations/team/{team.pk}/change/",
        {
            "name": "Support",
            "email": "",
            "auto_assign": "on",
            "strategy": "round_robin",
            "skills_timeout_minutes": 5,
            "reassign_after_minutes": 20,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    team = Team.objects.get(pk=team.pk)
    assert (team.auto_assign, team.strategy, team.skills_timeout_minutes, team.reassign_after_minutes) == (
        True,
        "round_robin",
        5,
        20,
    )
    assert AgentProfile.objects.get(user=ann).skills == ["german"]
    assert "Queue" in browser.get("/admin/conversations/team/").content.decode()


def test_user_without_agent_profile_sees_no_switch(roles, db):
    from django.contrib.auth.models import User

    boss = User.objects.create_superuser("boss", "boss@example.com", "pw")
    assert 'id="agent-status-switch"' not in browser_for(boss).get("/admin/").content.decode()


def test_agent_sets_required_skills_on_the_conversation_page(agent_browser, conversation):
    change = f"/admin/conversations/conversation/{conversation.pk}/change/"
    page = agent_browser.get(change)
    assert 'name="required_skills"' in page.content.decode()
    response = agent_browser.post(change, {**form_data(page), "required_skills": "German, billing"})
    assert response.status_code == 302, response.content.decode()[:2000]
    conversation.refresh_from_db()
    assert conversation.required_skills == ["german", "billing"]

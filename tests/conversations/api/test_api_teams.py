"""Teams over the API: agents read, support managers create, rename and delete."""

from conversations.models import Team


def test_manager_creates_team(manager_client):
    response = manager_client.post("/api/teams/", {"name": "Retention"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == Team.objects.get(name="Retention").pk


def test_agent_reads_teams_with_members(agent_client, agent, team):
    agent.agent_profile.teams.add(team)
    listing = agent_client.get("/api/teams/").json()
    assert listing["results"] == [
        {
            "id": team.pk,
            "name": "Support",
            "email": "",
            "agents": [agent.pk],
            "created_at": listing["results"][0]["created_at"],
            "auto_assign": False,
            "strategy": "least_busy",
            "skills_timeout_minutes": 10,
            "reassign_after_minutes": None,
        }
    ]
    assert agent_client.get(f"/api/teams/{team.pk}/").json()["name"] == "Support"


def test_agent_cannot_create_update_or_delete_team(agent_client, team):
    assert agent_client.post("/api/teams/", {"name": "X"}, format="json").status_code == 403
    assert agent_client.patch(f"/api/teams/{team.pk}/", {"name": "X"}, format="json").status_code == 403
    assert agent_client.delete(f"/api/teams/{team.pk}/").status_code == 403
    assert list(Team.objects.values_list("name", flat=True)) == ["Support"]


def test_manager_renames_team(manager_client, team):
    response = manager_client.patch(f"/api/teams/{team.pk}/", {"name": "Care"}, format="json")
    assert response.status_code == 200
    team.refresh_from_db()
    assert team.name == "Care"


def test_duplicate_team_name_is_400(manager_client, team):
    response = manager_client.post("/api/teams/", {"name": "Support"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_manager_deletes_team_without_open_work(manager_client, team):
    assert manager_client.delete(f"/api/teams/{team.pk}/").status_code == 204
    assert not Team.objects.exists()


def test_team_with_open_conversations_is_not_deleted(manager_client, team, open_conversation):
    open_conversation(team=team)
    response = manager_client.delete(f"/api/teams/{team.pk}/")
    assert response.status_code == 400
    assert "team" in response.json()
    assert Team.objects.filter(pk=team.pk).exists()

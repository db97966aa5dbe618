"""The "Bad rating → team lead" gallery template (docs/managers.md) works as it reads: used, activated, and a customer's
rating of 1 escalates the conversation to the team leads with the score and comment in an internal note and an
email to the team; a rating of 4 does nothing."""

from django.core import mail

from conversations import services
from tests.support.runs import drain
from workflows import services as workflow_services
from workflows.gallery import catalog as gallery

SLUG = "bad-rating-team-lead"


def answer(anon_client, conversation, score, comment=""):
    survey = services.survey_create(conversation=conversation, question="How did we do?")
    response = anon_client.post(
        f"/api/surveys/{survey.token}/answer/", {"score": score, "comment": comment}, format="json"
    )
    assert response.status_code == 200, response.json()
    drain()


def test_a_bad_rating_escalates_to_the_team_leads(manager, anon_client, agent_client, conversation):
    leads = services.team_create(name="Team leads", email="leads@example.com")
    workflow = gallery.template_use(slug=SLUG, created_by=manager)
    assert (workflow.trigger_type, workflow.trigger_config) == ("survey.answered", {"score_max": 2})
    workflow_services.workflow_set_status(workflow=workflow, status="active")
    answer(anon_client, conversation, 4)
    assert agent_client.get(f"/api/conversations/{conversation.pk}/").json()["team"] is None
    answer(anon_client, conversation, 1, "nobody answered for a week")
    body = agent_client.get(f"/api/conversations/{conversation.pk}/").json()
    assert (body["team"], body["priority"], body["tags"]) == (leads.pk, "high", ["bad-rating"])
    notes = [
        m
        for m in agent_client.get(f"/api/conversations/{conversation.pk}/messages/").json()["results"]
        if m["internal"]
    ]
    assert any("rated the help 1 of 5: nobody answered for a week" in note["body"] for note in notes)
    assert any("leads@example.com" in message.to for message in mail.outbox)

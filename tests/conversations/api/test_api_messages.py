"""Messages, recordings, tickets and surveys of a conversation over the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations import services
from conversations.models import Event, Recording, Survey


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_agent_message_is_authored_by_the_user_and_opens_the_conversation(agent_client, agent, conversation):
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": "On my way", "sender_type": "agent"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["author"], body["internal"], body["conversation"]) == (agent.pk, False, conversation.pk)
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert conversation.first_response_at is not None
    [event] = Event.objects.filter(type="message.created")
    assert (event.payload["message_id"], event.depth) == (body["id"], 0)


def test_customer_message_has_no_author_and_gets_sentiment(agent_client, conversation):
    body = agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "Thank you so much, great help!", "sender_type": "customer"},
        format="json",
    ).json()
    assert body["author"] is None
    assert body["sentiment"] > 0.7
    read = agent_client.get(f"/api/conversations/{conversation.pk}/").json()
    assert read["sentiment"] == body["sentiment"]
    assert read["last_customer_message_at"] is not None


def test_internal_note(agent_client, conversation):
    body = agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "Check the invoice", "sender_type": "agent", "internal": True},
        format="json",
    ).json()
    assert body["internal"] is True


def test_list_messages_oldest_first(agent_client, conversation):
    for text in ("one", "two", "three"):
        services.message_create(conversation=conversation, body=text, sender_type="customer")
    listing = agent_client.get(f"/api/conversations/{conversation.pk}/messages/").json()
    assert listing["count"] == 3
    assert [m["body"] for m in listing["results"]] == ["one", "two", "three"]


def test_message_errors_are_400(agent_client, conversation):
    url = f"/api/conversations/{conversation.pk}/messages/"
    assert set(agent_client.post(url, {}, format="json").json()) == {"body", "sender_type"}
    assert "sender_type" in agent_client.post(url, {"body": "x", "sender_type": "robot"}, format="json").json()
    assert "body" in agent_client.post(url, {"body": "x" * 20_001, "sender_type": "agent"}, format="json").json()
    assert "body" in agent_client.post(url, {"body": "   ", "sender_type": "agent"}, format="json").json()
    response = agent_client.post(url, {"body": "hi", "sender_type": "customer", "internal": True}, format="json")
    assert response.status_code == 400
    assert "internal" in response.json()
    assert not Event.objects.filter(type="message.created").exists()


def test_messages_of_unknown_conversation_are_404(agent_client):
    assert agent_client.get("/api/conversations/999999/messages/").status_code == 404
    assert (
        agent_client.post(
            "/api/conversations/abc/messages/", {"body": "x", "sender_type": "agent"}, format="json"
        ).status_code
        == 404
    )


def test_upload_recording_records_event(agent_client, conversation):
    audio = SimpleUploadedFile("call.wav", b"RIFF....WAVEfmt ", content_type="audio/wav")
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/recordings/", {"file": audio}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["content_type"], body["size_bytes"], body["conversation"]) == ("audio/wav", 16, conversation.pk)
    assert body["file"].endswith("call.wav")
    [event] = Event.objects.filter(type="recording.uploaded")
    assert (event.payload["recording_id"], event.depth) == (body["id"], 0)
    listing = agent_client.get(f"/api/conversations/{conversation.pk}/recordings/").json()
    assert [r["id"] for r in listing["results"]] == [body["id"]]


def test_recording_must_be_audio(agent_client, conversation):
    text = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/recordings/", {"file": text}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()
    assert (
        agent_client.post(f"/api/conversations/{conversation.pk}/recordings/", {}, format="multipart").status_code
        == 400
    )
    assert not Recording.objects.exists()


def test_tickets_list_filtered_by_conversation(agent_client, conversation, open_conversation):
    other = open_conversation()
    ticket = services.ticket_create(conversation=conversation, title="Replace printer", priority="high")
    services.ticket_create(conversation=other, title="Other")
    listing = agent_client.get(f"/api/tickets/?conversation={conversation.pk}").json()
    assert [(t["id"], t["title"], t["priority"]) for t in listing["results"]] == [
        (ticket.pk, "Replace printer", "high")
    ]
    assert agent_client.get("/api/tickets/").json()["count"] == 2
    assert agent_client.get(f"/api/tickets/{ticket.pk}/").json()["conversation"] == conversation.pk
    assert agent_client.get("/api/tickets/?conversation=abc").status_code == 400
    assert agent_client.post("/api/tickets/", {"title": "x"}, format="json").status_code == 405


def test_survey_answered_once_without_auth(anon_client, conversation):
    survey = services.survey_create(conversation=conversation, question="How did we do?")
    url = f"/api/surveys/{survey.token}/answer/"
    response = anon_client.post(url, {"score": 5, "comment": "Great"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["score"], response.json()["comment"]) == (5, "Great")
    assert Event.objects.get(type="survey.answered").depth == 0
    second = anon_client.post(url, {"score": 1}, format="json")
    assert second.status_code == 400
    survey.refresh_from_db()
    assert survey.score == 5


def test_survey_answer_errors(anon_client, conversation):
    survey = services.survey_create(conversation=conversation, question="How did we do?")
    url = f"/api/surveys/{survey.token}/answer/"
    assert anon_client.post("/api/surveys/nope/answer/", {"score": 3}, format="json").status_code == 404
    for bad in (0, 6, "five", None, 2.5, True):
        response = anon_client.post(url, {"score": bad}, format="json")
        assert response.status_code == 400, bad
        assert "score" in response.json()
    assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_public_survey_page_posts_the_answer(conversation):
    from django.test import Client

    survey = services.survey_create(conversation=conversation, question="Were you happy with our help?")
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/survey/{survey.token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Were you happy with our help?" in html
    assert all(f'value="{score}"' in html for score in range(1, 6))
    answered = browser.post(
        f"/survey/{survey.token}/",
        {
            "score": "4",
            "comment": "Quick",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        },
    )
    assert answered.status_code == 200
    assert "You rated us 4 out of 5" in answered.content.decode()
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "Quick")


def test_public_survey_page_unknown_token_and_missing_score(conversation):
    from django.test import Client

    browser = Client()
    assert browser.get("/survey/unknown/").status_code == 404
    survey = services.survey_create(conversation=conversation, question="Q?")
    assert browser.post(f"/survey/{survey.token}/", {"score": "9"}).status_code == 400
    assert Survey.objects.get(pk=survey.pk).answered_at is None

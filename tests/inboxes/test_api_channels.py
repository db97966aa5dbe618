"""The channel side of the API (docs/channels.md): messages with files, their mail headers and delivery; attachment
downloads checked against who may read the conversation; conversations in an inbox; retrying a delivery."""

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conversations import services
from conversations.choices import SenderType
from conversations.models import Attachment, Message
from tests.support.people import client_for

pytestmark = pytest.mark.django_db


def upload(name, content, content_type="text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def post_reply(client, conversation, capture, files=(), **extra):
    with capture(execute=True):
        return client.post(
            f"/api/conversations/{conversation.pk}/messages/",
            {"body": "See the attached manual.", "sender_type": "agent", "files": list(files), **extra},
            format="multipart",
        )


def test_agent_reply_with_files_is_mailed_and_reads_back(
    agent_client, email_conversation, smtp_server, django_capture_on_commit_callbacks
):
    response = post_reply(
        agent_client,
        email_conversation,
        django_capture_on_commit_callbacks,
        files=[upload("manual.pdf", b"%PDF manual", "application/pdf"), upload("notes.txt", b"two")],
    )

    assert response.status_code == 201, response.content
    created = response.json()
    assert [(a["filename"], a["content_type"], a["size"]) for a in created["attachments"]] == [
        ("manual.pdf", "application/pdf", 11),
        ("notes.txt", "text/plain", 3),
    ]
    assert created["delivery"]["status"] == "queued"
    [mail] = smtp_server.wait_for(1)
    assert sorted(part.get_filename() for part in mail.message.iter_attachments()) == ["manual.pdf", "notes.txt"]

    listed = agent_client.get(f"/api/conversations/{email_conversation.pk}/messages/").json()["results"]
    first, reply = listed
    assert first["email"]["message_id"] == "<first-mail@customer.test>" and first["delivery"] is None
    assert first["email"]["from"] == "ada@example.com" and first["email"]["subject"] == "Printer on fire"
    assert reply["delivery"]["status"] == "sent" and reply["delivery"]["attempts"] == 1
    assert reply["delivery"]["sent_at"] and reply["delivery"]["error"] == ""
    assert reply["email"]["message_id"] == mail.message["Message-ID"]
    assert reply["email"]["in_reply_to"] == "<first-mail@customer.test>"
    assert reply["email"]["to"] == ["ada@example.com"] and reply["email"]["cc"] == ["bob@example.com"]
    download = agent_client.get(reply["attachments"][0]["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF manual"


def test_file_over_the_limit_is_a_400_naming_it_and_saves_nothing(
    agent_client, email_conversation, settings, django_capture_on_commit_callbacks
):
    settings.HELPDESK_MAX_ATTACHMENT_BYTES = 10
    before = Message.objects.count()
    response = post_reply(
        agent_client,
        email_conversation,
        django_capture_on_commit_callbacks,
        files=[upload("small.txt", b"ok"), upload("big-log.txt", b"x" * 11)],
    )
    assert response.status_code == 400
    assert "big-log.txt" in str(response.json()["files"])
    assert Message.objects.count() == before and not Attachment.objects.exists()


def test_file_names_are_sanitised(agent_client, conversation, django_capture_on_commit_callbacks):
    response = post_reply(
        agent_client,
        conversation,
        django_capture_on_commit_callbacks,
        files=[upload("../../etc/pass\x07wd;rm -rf.txt", b"data")],
    )
    assert response.status_code == 201, response.content
    [attachment] = response.json()["attachments"]
    assert "/" not in attachment["filename"] and ";" not in attachment["filename"]
    assert attachment["filename"].endswith(".txt") and attachment["filename"].startswith("pass")
    download = agent_client.get(attachment["url"])
    assert download["Content-Disposition"].startswith("attachment;")
    assert attachment["filename"] in download["Content-Disposition"]


def test_download_needs_someone_who_may_read_the_conversation(agent_client, conversation, roles):
    message = services.message_create(
        conversation=conversation,
        body="Invoice",
        sender_type=SenderType.CUSTOMER,
        files=[("invoice.pdf", b"%PDF invoice", "application/pdf")],
    )
    url = f"/api/attachments/{message.attachments.get().pk}/"
    outsider = User.objects.create_user(username="outsider", password="pw-outsider")
    assert APIClient().get(url).status_code == 401
    assert client_for(outsider).get(url).status_code == 403
    assert agent_client.get("/api/attachments/999999/").status_code == 404
    assert agent_client.get("/api/attachments/abc/").status_code == 404
    response = agent_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_json_messages_still_work_and_read_back_empty_channel_fields(agent_client, conversation):
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": "Hi", "sender_type": "agent"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["attachments"], body["delivery"]) == (None, [], None)
    assert agent_client.get(f"/api/conversations/{conversation.pk}/messages/").json()["results"][0] == body


def test_conversation_opened_in_an_inbox_takes_its_channel_and_team(agent_client, contact, email_inbox, team):
    response = agent_client.post(
        "/api/conversations/", {"contact": contact.pk, "inbox": email_inbox.pk, "subject": "Order"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["channel"], body["team"], body["inbox"]) == ("email", team.pk, email_inbox.pk)
    assert agent_client.get(f"/api/conversations/{body['id']}/").json()["inbox"] == email_inbox.pk
    assert agent_client.post("/api/conversations/", {"contact": contact.pk}, format="json").json() == {
        "channel": ["This field is required."]
    }
    assert (
        agent_client.post("/api/conversations/", {"contact": contact.pk, "inbox": 999999}, format="json").status_code
        == 400
    )


def test_failed_delivery_is_retried_over_the_api(
    agent_client, email_conversation, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.fail_next(550)
    response = post_reply(agent_client, email_conversation, django_capture_on_commit_callbacks)
    message_id = response.json()["id"]
    url = f"/api/conversations/{email_conversation.pk}/messages/{message_id}/retry/"
    listed = agent_client.get(f"/api/conversations/{email_conversation.pk}/messages/").json()["results"]
    assert listed[-1]["delivery"]["status"] == "failed" and "550" in listed[-1]["delivery"]["error"]

    with django_capture_on_commit_callbacks(execute=True):
        retried = agent_client.post(url)
    assert retried.status_code == 200 and retried.json()["delivery"]["status"] == "queued"
    assert len(smtp_server.wait_for(1)) == 1
    again = agent_client.post(url)
    assert again.status_code == 400 and "delivery" in again.json()


def test_message_list_reads_channel_fields_without_a_query_per_message(agent_client, email_conversation, smtp_server):
    url = f"/api/conversations/{email_conversation.pk}/messages/"

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert agent_client.get(url).status_code == 200
        return len(queries)

    services.message_create(
        conversation=email_conversation, body="a", sender_type=SenderType.AGENT, files=[("a.txt", b"a", "text/plain")]
    )
    few = count()
    for n in range(5):
        services.message_create(
            conversation=email_conversation,
            body=f"b{n}",
            sender_type=SenderType.AGENT,
            files=[("b.txt", b"b", "text/plain")],
        )
    assert count() == few

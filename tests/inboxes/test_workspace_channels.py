"""The workspace shows the mail side of a thread (docs/channels.md): sender address and Cc, attachments as chips with a
download link, each sent message's delivery state with a Retry button when it failed; the reply box attaches files."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conversations import services
from conversations.choices import SenderType
from conversations.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_web(client, agent):
    client.force_login(agent)
    return client


def test_thread_shows_addresses_files_and_delivery(
    agent_web, email_conversation, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.fail_next(550, text="No such user")
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_create(
            conversation=email_conversation,
            body="Here is the manual",
            sender_type=SenderType.AGENT,
            files=[("manual.pdf", b"%PDF", "")],
        )
    page = agent_web.get(reverse("admin:conversations_conversation_change", args=[email_conversation.pk]))
    html = page.content.decode()
    assert "From ada@example.com" in html and "Cc Bob Boss &lt;bob@example.com&gt;" in html
    attachment = message.attachments.get()
    assert f'href="/api/attachments/{attachment.pk}/"' in html and "manual.pdf" in html
    assert 'data-delivery="failed"' in html and "No such user" in html
    assert 'value="retry_delivery"' in html
    assert agent_web.get(f"/api/attachments/{attachment.pk}/").status_code == 200  # the chip's link, same login


def test_retry_button_sends_again(agent_web, email_conversation, smtp_server, django_capture_on_commit_callbacks):
    smtp_server.fail_next(550)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_create(conversation=email_conversation, body="Answer", sender_type=SenderType.AGENT)
    with django_capture_on_commit_callbacks(execute=True):
        agent_web.post(
            reverse("admin:conversations_conversation_work", args=[email_conversation.pk]),
            {"action": "retry_delivery", "message": message.pk},
        )
    assert Delivery.objects.get(message=message).status == "sent"
    assert len(smtp_server.wait_for(1)) == 1


def test_reply_box_attaches_files(agent_web, email_conversation, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_web.post(
            reverse("admin:conversations_conversation_work", args=[email_conversation.pk]),
            {
                "action": "reply",
                "body": "See attached",
                "files": [SimpleUploadedFile("a.txt", b"A"), SimpleUploadedFile("b.txt", b"B")],
            },
        )
    assert response.status_code == 302
    reply = email_conversation.messages.get(body="See attached")
    assert sorted(reply.attachments.values_list("filename", flat=True)) == ["a.txt", "b.txt"]
    [mail] = smtp_server.wait_for(1)
    assert sorted(part.get_filename() for part in mail.message.iter_attachments()) == ["a.txt", "b.txt"]

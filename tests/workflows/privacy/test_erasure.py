"""Erasure (GDPR Art. 17): a contact seeded through every path its data travels (API, workflow steps that copy it
into tickets, replies, outbound requests and run logs, surveys, recordings, files, mail headers, the admin history)
is erased by `POST /api/contacts/{id}/erase/`, and a scan of every column of every table finds none of its values
afterwards, while the anonymised facts (statuses, counts, scores, times) stay."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from conversations import services
from conversations.models import Attachment, Contact, Conversation, Event, Message, Notification, SavedView, Survey
from tests.support.people import client_for
from tests.support.runs import drain
from workflows.models import StepRun

NAME, EMAIL, PHONE = "Zebulon Quixotic", "zebulon.quixotic@canary.example", "+14155550199"
CANARIES = ("zebulon", "quixotic", "canary.example", "4155550199")


def every_value_naming_the_canary() -> list[str]:
    """Every (table.column) whose stored value names a canary, read with plain SQL from every table."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row):
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    text = str(value).lower()
                    found += [f"{table}.{column}" for canary in CANARIES if canary in text]
    return sorted(set(found))


@pytest.fixture
def crm(httpserver, settings):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    httpserver.expect_request("/contacts").respond_with_json({"echo": EMAIL, "plan": "gold"})
    return httpserver


def seed(manager, agent, crm) -> Contact:
    """The canary's data through every door: API, workflow steps, records, files, mail headers, admin history."""
    api = client_for(manager)
    assert (
        api.post(
            "/api/workflows/",
            {
                "name": "Copy the customer everywhere",
                "status": "active",
                "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
                "steps": [
                    {
                        "type": "create_ticket",
                        "config": {"title": "Call back {{ contact.name }}", "description": "{{ message.body }}"},
                    },
                    {"type": "auto_reply", "config": {"text": "Hello {{ contact.name }}, we got it."}},
                    {"type": "set_variable", "config": {"name": "phone", "value": "{{ contact.phone }}"}},
                    {
                        "type": "http_request",
                        "config": {
                            "url": crm.url_for("/contacts"),
                            "method": "POST",
                            "values": [{"key": "email", "value": "{{ contact.email }}"}],
                            "save_as": "crm",
                        },
                    },
                ],
            },
            format="json",
        ).status_code
        == 201
    )
    contact_id = api.post(
        "/api/contacts/",
        {"name": NAME, "email": EMAIL, "phone": PHONE, "attributes": {"nickname": "Zeb Quixotic"}},
        format="json",
    ).json()["id"]
    conversation_id = api.post(
        "/api/conversations/", {"contact": contact_id, "channel": "email", "subject": f"Order of {NAME}"}, format="json"
    ).json()["id"]
    assert (
        api.post(
            f"/api/conversations/{conversation_id}/messages/",
            {"body": f"I am {NAME}, call me on {PHONE} or {EMAIL}", "sender_type": "customer"},
            format="json",
        ).status_code
        == 201
    )
    agent_api = client_for(agent)
    agent_api.post(
        f"/api/conversations/{conversation_id}/messages/",
        {"body": f"Dear Zebulon, noted {PHONE}.", "sender_type": "agent"},
        format="json",
    )
    agent_api.post(
        f"/api/conversations/{conversation_id}/messages/",
        {"body": "Quixotic is a VIP", "sender_type": "agent", "internal": True},
        format="json",
    )
    api.patch(f"/api/contacts/{contact_id}/", {"attributes": {"crm_note": f"{NAME} prefers mail"}}, format="json")
    drain()

    conversation = Conversation.objects.get(pk=conversation_id)
    survey = services.survey_create(conversation=conversation, question="How did we do?")
    services.survey_answer(survey=survey, score=5, comment="Zebulon loved it")
    recording = services.recording_attach(
        conversation=conversation, file=SimpleUploadedFile("call.wav", b"RIFF-quixotic", content_type="audio/wav")
    )
    services.transcript_create(recording=recording, text="this is zebulon speaking", language="en-US", backend="test")
    # Mail: a reply by email through the inbound endpoint (addresses, subject, raw source, a file) threads in.
    from inboxes.services import inbox_create

    inbox, token = inbox_create(name="Support mail", channel="email", address="help@example.com")
    Conversation.objects.filter(pk=conversation_id).update(inbox=inbox)
    tag = f"[#{conversation_id}]"
    mail = (
        f"From: {NAME} <{EMAIL}>\r\nTo: help@example.com\r\nCc: {EMAIL}\r\n"
        f"Subject: Re: Order of {NAME} {tag}\r\nMessage-ID: <m1@canary.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        f"Content-Type: text/plain\r\n\r\nIt is {NAME} again, {PHONE}.\r\n--b\r\n"
        "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=zebulon-id.txt\r\n\r\n"
        f"{NAME} passport\r\n--b--\r\n"
    ).encode()
    inbound = APIClient()
    inbound.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    answer = inbound.post(f"/api/inboxes/{inbox.pk}/inbound/", data=mail, content_type="message/rfc822")
    assert answer.status_code == 202 and answer.json()["conversation"] == conversation_id, answer.content
    # A mention in a note notifies an agent with an excerpt; a saved view searches for the customer.
    agent_api.post(
        f"/api/conversations/{conversation_id}/messages/",
        {"body": f"@{manager.username} Zebulon called again", "sender_type": "agent", "internal": True},
        format="json",
    )
    agent_api.post(
        "/api/views/", {"name": "Zebulon's", "filters": {"search": "Zebulon"}, "shared_with": "me"}, format="json"
    )
    contact = Contact.objects.get(pk=contact_id)
    LogEntry.objects.log_actions(
        user_id=manager.pk, queryset=[contact], action_flag=CHANGE, change_message=f"Changed {NAME}", single_object=True
    )
    drain()
    return contact


def test_erasure_leaves_no_copy_of_the_contact_in_any_table(manager, agent, crm, django_capture_on_commit_callbacks):
    contact = seed(manager, agent, crm)
    assert "conversations_contact.name" in every_value_naming_the_canary()  # the scan sees the canary before
    assert Notification.objects.exists() and SavedView.objects.exists()
    assert Attachment.objects.get().filename == "zebulon-id.txt"
    assert StepRun.objects.filter(run__conversation__contact=contact, type="http_request", status="succeeded").exists()
    stored = [attachment.file.path for attachment in Attachment.objects.all()]
    messages_before = Message.objects.filter(conversation__contact=contact).count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post(f"/api/contacts/{contact.pk}/erase/")

    assert response.status_code == 200
    assert every_value_naming_the_canary() == []
    assert not any(__import__("os").path.exists(path) for path in stored)
    erased = response.json()["erased"]
    assert erased["conversations"] == 1 and erased["messages"] == messages_before and erased["attachments"] == 1
    # Facts stay: the rows, their statuses and times, the survey's score, one audit event with counts only.
    assert Message.objects.filter(conversation__contact=contact).count() == messages_before
    assert Survey.objects.get(conversation__contact=contact).score == 5
    conversation = Conversation.objects.get(contact=contact)
    assert conversation.erased_at is not None and conversation.first_response_at is not None
    [audit] = Event.objects.filter(type="contact.erased")
    assert audit.payload["contact"] == contact.pk and audit.payload["messages"] == messages_before
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.phone, contact.attributes) == (
        f"Erased contact {contact.pk}",
        "",
        "",
        {},
    )


def test_agents_may_not_erase(agent, contact):
    assert client_for(agent).post(f"/api/contacts/{contact.pk}/erase/").status_code == 403
    assert Contact.objects.get(pk=contact.pk).name == contact.name


def test_an_unknown_contact_is_404(manager):
    assert client_for(manager).post("/api/contacts/999999/erase/").status_code == 404


def test_other_contacts_keep_their_data(manager, agent, crm, contact):
    other = services.conversation_open(contact=contact, channel="web", subject="Printer jam")
    services.message_create(conversation=other, body="The printer jams", sender_type="customer")
    canary = seed(manager, agent, crm)
    client_for(manager).post(f"/api/contacts/{canary.pk}/erase/")
    assert Contact.objects.get(pk=contact.pk).name == "Ada Lovelace"
    assert other.messages.get(sender_type="customer").body == "The printer jams"
    assert Conversation.objects.get(pk=other.pk).subject == "Printer jam"


def test_the_admin_action_asks_first_then_erases(manager, contact):
    from django.test import Client

    browser = Client()
    browser.force_login(manager)
    form = {"action": "erase_personal_data", "_selected_action": [contact.pk]}
    asked = browser.post("/admin/conversations/contact/", form)
    assert asked.status_code == 200 and b"Yes, erase for good" in asked.content and b"Ada Lovelace" in asked.content
    assert Contact.objects.get(pk=contact.pk).erased_at is None
    done = browser.post("/admin/conversations/contact/", {**form, "confirm": "yes"})
    assert done.status_code == 302
    assert Contact.objects.get(pk=contact.pk).name == f"Erased contact {contact.pk}"

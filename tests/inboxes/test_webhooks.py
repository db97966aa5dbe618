"""Provider inbound webhooks through django-anymail (docs/channels.md), with the providers' real payload shapes: Mailgun's
route forward (raw MIME `body-mime`, and the fully parsed fields with files), signed with the signing key; Postmark's
inbound JSON (with `RawEmail`, and parsed only), authenticated by the inbox's token as basic-auth password."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from io import BytesIO

import pytest
from django.test import Client

from conversations.models import Conversation, Message
from inboxes.services import inbox_create
from tests.support.mail import make_mail

SIGNING_KEY = "key-mailgun-signing-0123456789abcdef"


@pytest.fixture
def hooked(db, team):
    """An email inbox whose secret is the Mailgun webhook signing key; returns (inbox, inbound token)."""
    return inbox_create(name="Hooked", channel="email", team=team, address="support@helpdesk.test", secret=SIGNING_KEY)


def mailgun_signed(fields: dict, key: str = SIGNING_KEY) -> dict:
    token, timestamp = "06c96bafc3f42a66b9edd546347a2fe18dc23461fe80dc52f0", "1764662400"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"token": token, "timestamp": timestamp, "signature": signature, **fields}


def mailgun_url(inbox) -> str:
    return f"/inboxes/anymail/{inbox.pk}/mailgun/inbound_mime/"


def postmark_client(token: str) -> Client:
    credentials = base64.b64encode(f"postmark:{token}".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {credentials}")


def test_mailgun_raw_mime_is_imported_once(hooked):
    inbox, _ = hooked
    raw = make_mail(subject="Via Mailgun", body="Hello from Mailgun.").decode()
    payload = mailgun_signed({"recipient": "support@helpdesk.test", "sender": "bo@customer.test", "body-mime": raw})
    assert Client().post(mailgun_url(inbox), data=payload).status_code == 200
    assert Client().post(mailgun_url(inbox), data=payload).status_code == 200  # Mailgun retries: no double
    message = Message.objects.get()
    assert (message.body, message.conversation.inbox, message.conversation.subject) == (
        "Hello from Mailgun.",
        inbox,
        "Via Mailgun",
    )


def test_mailgun_fully_parsed_fields_with_a_file(hooked):
    inbox, _ = hooked
    attachment = BytesIO(b"%PDF-1.4 test")
    attachment.name = "quote.pdf"
    payload = mailgun_signed(
        {
            "recipient": "support@helpdesk.test",
            "sender": "envelope@customer.test",
            "message-headers": json.dumps(
                [
                    ["X-Mailgun-Spf", "Pass"],
                    ["Mime-Version", "1.0"],
                    ["From", '"Bo Customer" <bo@customer.test>'],
                    ["Date", "Wed, 02 Dec 2026 18:31:04 -0700"],
                    ["Message-Id", "<parsed-1@mail.customer.test>"],
                    ["Subject", "Parsed by Mailgun"],
                    ["To", "support@helpdesk.test"],
                    ["Cc", "boss@customer.test"],
                    ["Content-Type", 'multipart/mixed; boundary="089e0825ccf874a0bb055b4f7e23"'],
                ]
            ),
            "body-plain": "The quote is attached.",
            "body-html": "<div>The quote is attached.</div>",
            "stripped-text": "The quote is attached.",
            "attachment-count": "1",
            "attachment-1": attachment,
        }
    )
    assert Client().post(mailgun_url(inbox), data=payload).status_code == 200
    message = Message.objects.get()
    assert message.body == "The quote is attached." and message.email.from_address == "bo@customer.test"
    assert message.email.message_id_header == "<parsed-1@mail.customer.test>"
    assert [a.filename for a in message.attachments.all()] == ["quote.pdf"]
    assert message.email.cc == ["boss@customer.test"]


def test_mailgun_with_a_wrong_signature_is_refused(hooked):
    inbox, _ = hooked
    payload = mailgun_signed({"body-mime": make_mail().decode()}, key="not-the-key")
    assert Client().post(mailgun_url(inbox), data=payload).status_code == 400
    assert not Message.objects.exists()


def test_an_unknown_or_inactive_inbox_is_404(hooked):
    inbox, _ = hooked
    payload = mailgun_signed({"body-mime": make_mail().decode()})
    assert Client().post(f"/inboxes/anymail/{inbox.pk + 99}/mailgun/inbound_mime/", data=payload).status_code == 404


def test_postmark_raw_email_with_the_inbound_token(hooked):
    inbox, token = hooked
    raw = make_mail(subject="Via Postmark", body="Hello from Postmark.").decode().replace("\r\n", "\n")
    payload = {
        "RawEmail": raw,
        "OriginalRecipient": "support@helpdesk.test",
        "MessageID": "22c74902-a0c1-4511-804f2-341342852c90",
        "StrippedTextReply": "Hello from Postmark.",
        "Headers": [{"Name": "Return-Path", "Value": "<bo@customer.test>"}],
        "Attachments": [],
    }
    response = postmark_client(token).post(
        f"/inboxes/anymail/{inbox.pk}/postmark/inbound/", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.subject == "Via Postmark" and conversation.messages.get().body == "Hello from Postmark."


def test_postmark_parsed_payload_without_raw_email(hooked):
    inbox, token = hooked
    payload = {
        "FromFull": {"Email": "bo@customer.test", "Name": "Bo Customer", "MailboxHash": ""},
        "ToFull": [{"Email": "support@helpdesk.test", "Name": "", "MailboxHash": ""}],
        "CcFull": [],
        "BccFull": [],
        "OriginalRecipient": "support@helpdesk.test",
        "Subject": "Parsed by Postmark",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "Date": "Wed, 2 Dec 2026 12:00:00 +0000",
        "TextBody": "Where is my order?",
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": "<bo@customer.test>"},
            {"Name": "Message-ID", "Value": "<postmark-parsed-1@customer.test>"},
        ],
        "Attachments": [
            {
                "Name": "photo.png",
                "Content": base64.b64encode(b"\x89PNG fake").decode(),
                "ContentType": "image/png",
                "ContentLength": 9,
            }
        ],
    }
    response = postmark_client(token).post(
        f"/inboxes/anymail/{inbox.pk}/postmark/inbound/", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.body == "Where is my order?" and message.email.from_address == "bo@customer.test"
    assert [a.filename for a in message.attachments.all()] == ["photo.png"]


def test_postmark_without_the_token_is_refused(hooked):
    inbox, _ = hooked
    response = postmark_client("wrong").post(
        f"/inboxes/anymail/{inbox.pk}/postmark/inbound/",
        data=json.dumps({"RawEmail": make_mail().decode()}),
        content_type="application/json",
    )
    assert response.status_code == 400 and not Message.objects.exists()

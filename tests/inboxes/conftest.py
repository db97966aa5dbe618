"""Fixtures of the channels tests: inboxes (made through the service, or rows written as the API seals them), their
inbound token, conversations as the importer leaves them, mail builders."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from conversations import services
from conversations.choices import EmailDirection, SenderType
from conversations.models import EmailHeaders, Inbox
from inboxes.services import inbox_create
from workflows.integrations.crypto import encrypt_json
from workflows.outbound.signing import generate_secret


@pytest.fixture
def email_inbox(team):
    return Inbox.objects.create(
        name="Support mail",
        channel="email",
        team=team,
        address="support@helpdesk.test",
        secrets_encrypted=encrypt_json({"imap_password": "i", "smtp_password": ""}),
    )


@pytest.fixture
def email_conversation(contact, email_inbox):
    """A conversation opened by a customer's mail (with a Cc), as the importer leaves it."""
    conversation = services.conversation_open(
        contact=contact, channel="email", subject="Printer on fire", inbox=email_inbox
    )
    message = services.message_create(
        conversation=conversation, body="My printer is on fire.", sender_type=SenderType.CUSTOMER
    )
    EmailHeaders.objects.create(
        message=message,
        inbox=email_inbox,
        direction=EmailDirection.INBOUND,
        message_id_header="<first-mail@customer.test>",
        from_name="Ada Lovelace",
        from_address="ada@example.com",
        to=["support@helpdesk.test"],
        cc=["Bob Boss <bob@example.com>", "support@helpdesk.test"],
        subject="Printer on fire",
    )
    return conversation


@pytest.fixture
def callback_secret() -> str:
    return generate_secret()


@pytest.fixture
def api_inbox(team, httpserver, settings, callback_secret):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    return Inbox.objects.create(
        name="Chat widget",
        channel="api",
        team=team,
        callback_url=httpserver.url_for("/hooks/answers"),
        secrets_encrypted=encrypt_json({"secret": callback_secret}),
    )


@pytest.fixture
def api_conversation(contact, api_inbox):
    conversation = services.conversation_open(contact=contact, channel="api", subject="Chat", inbox=api_inbox)
    services.message_create(conversation=conversation, body="Hello?", sender_type=SenderType.CUSTOMER)
    return conversation


@pytest.fixture
def inbox_and_token(db, team):
    return inbox_create(name="Support mail", channel="email", team=team, address="support@helpdesk.test")


@pytest.fixture
def inbox(inbox_and_token):
    return inbox_and_token[0]


@pytest.fixture
def inbound_client(inbox_and_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {inbox_and_token[1]}")
    return client

"""The workspace of an email conversation in a real browser: the customer's mail with its address, Cc and file chip,
an answer whose sending failed with a Retry button, and a reply with a file attached from the reply box — received
by a real SMTP server. Screenshots: tests/browser/artifacts/mail-workspace*.png."""

from __future__ import annotations

import pytest

from conversations import services
from conversations.choices import EmailDirection, SenderType
from conversations.models import EmailHeaders, Inbox
from conversations.roles import AGENTS_GROUP
from tests.support.browser import log_in
from tests.support.people import make_user
from workflows.integrations.crypto import encrypt_json


@pytest.mark.django_db(transaction=True)
def test_agent_sees_mail_details_retries_and_replies_with_a_file(
    live_server, new_page, shot, roles, smtp_server, tmp_path
):
    agent = make_user("agent", AGENTS_GROUP)
    team = services.team_create(name="Support")
    inbox = Inbox.objects.create(
        name="Support mail",
        channel="email",
        team=team,
        address="support@helpdesk.test",
        secrets_encrypted=encrypt_json({}),
    )
    contact = services.contact_create(name="Ada Lovelace", email="ada@example.com")
    conversation = services.conversation_open(contact=contact, channel="email", subject="Printer on fire", inbox=inbox)
    first = services.message_create(
        conversation=conversation,
        body="My printer is on fire, photo attached.",
        sender_type=SenderType.CUSTOMER,
        files=[("printer.jpg", b"\xff\xd8jpg", "image/jpeg")],
    )
    EmailHeaders.objects.create(
        message=first,
        inbox=inbox,
        direction=EmailDirection.INBOUND,
        message_id_header="<m1@customer.test>",
        from_address="ada@example.com",
        to=["support@helpdesk.test"],
        cc=["bob@example.com"],
        subject="Printer on fire",
    )
    smtp_server.fail_next(550, text="5.1.1 Mailbox unavailable")
    services.message_create(
        conversation=conversation, body="Please unplug it.", sender_type=SenderType.AGENT, author=agent
    )  # committed at once: the sender runs and the server refuses it

    page = new_page()
    log_in(page, live_server.url, "agent")
    page.goto(f"{live_server.url}/admin/conversations/conversation/{conversation.pk}/change/")
    assert "From ada@example.com · Cc bob@example.com" in page.inner_text(".ws-thread")
    assert page.inner_text(".ws-chip").startswith("printer.jpg")
    assert page.get_attribute(".ws-chip", "href").startswith("/api/attachments/")
    assert "Mailbox unavailable" in page.inner_text(".ws-error")
    shot(page, "mail-workspace-failed")

    page.click(".ws-retry button")
    page.wait_for_load_state()
    assert page.locator('[data-delivery="sent"]').count() == 1
    assert page.locator(".ws-retry").count() == 0

    manual = tmp_path / "manual.pdf"
    manual.write_bytes(b"%PDF-1.4 manual")
    page.fill("#ws-body", "Here is the safety manual.")
    page.set_input_files(".ws-reply input[type=file]", str(manual))
    page.click(".ws-reply button[value=reply]")
    page.wait_for_load_state()
    assert page.locator('[data-delivery="sent"]').count() == 2
    assert "manual.pdf" in page.inner_text(".ws-thread")
    shot(page, "mail-workspace")
    mails = smtp_server.wait_for(2)
    assert [part.get_filename() for part in mails[-1].message.iter_attachments()] == ["manual.pdf"]
    assert mails[-1].message["Cc"] == "bob@example.com"

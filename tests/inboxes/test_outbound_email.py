"""Answers leave by mail (docs/channels.md), received by a real SMTP server (aiosmtpd) on loopback."""

import datetime as dt

import pytest

from conversations import clock, services
from conversations.choices import DeliveryStatus, EmailDirection, SenderType
from conversations.models import Delivery, EmailHeaders
from inboxes.outbound import worker
from inboxes.outbound.email import reply_subject

pytestmark = pytest.mark.django_db


def reply(conversation, body="We are on it.", capture=None, **kwargs):
    """An agent's reply, committed (its delivery task runs after commit, in process in tests)."""
    with capture(execute=True):
        return services.message_create(conversation=conversation, body=body, sender_type=SenderType.AGENT, **kwargs)


def test_agent_reply_is_mailed_into_the_thread(
    email_conversation, smtp_server, agent, django_capture_on_commit_callbacks
):
    message = reply(
        email_conversation,
        author=agent,
        capture=django_capture_on_commit_callbacks,
        files=[("manual.pdf", b"%PDF-1.4 fire safety", "application/pdf")],
    )

    [mail] = smtp_server.wait_for(1)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1 and delivery.sent_at
    parsed = mail.message
    assert parsed["From"] == "Support <support@helpdesk.test>"
    assert parsed["To"] == "ada@example.com"
    assert parsed["Cc"] == "bob@example.com"
    assert parsed["Subject"] == f"Re: Printer on fire [#{email_conversation.pk}]"
    assert parsed["Message-ID"] == delivery.external_id
    assert delivery.external_id.endswith("@helpdesk.test>")
    assert parsed["In-Reply-To"] == "<first-mail@customer.test>"
    assert parsed["References"] == "<first-mail@customer.test>"
    assert sorted(mail.rcpt_tos) == ["ada@example.com", "bob@example.com"]
    assert parsed.get_body(("plain",)).get_content().strip() == "We are on it."
    [part] = list(parsed.iter_attachments())
    assert part.get_filename() == "manual.pdf" and part.get_content() == b"%PDF-1.4 fire safety"
    headers = EmailHeaders.objects.get(message=message)
    assert headers.direction == EmailDirection.OUTBOUND and headers.message_id_header == delivery.external_id


def test_second_reply_references_the_whole_thread(email_conversation, smtp_server, django_capture_on_commit_callbacks):
    first = reply(email_conversation, body="First answer.", capture=django_capture_on_commit_callbacks)
    reply(email_conversation, body="Second answer.", capture=django_capture_on_commit_callbacks)

    mails = smtp_server.wait_for(2)
    first_id = Delivery.objects.get(message=first).external_id
    assert mails[1].message["In-Reply-To"] == first_id
    assert mails[1].message["References"].split() == ["<first-mail@customer.test>", first_id]


def test_internal_note_and_customer_message_are_never_sent(
    email_conversation, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        note = services.message_create(
            conversation=email_conversation, body="Call the fire brigade?", sender_type=SenderType.AGENT, internal=True
        )
        customer = services.message_create(
            conversation=email_conversation, body="Still burning", sender_type=SenderType.CUSTOMER
        )
        stored = services.message_create(
            conversation=email_conversation, body="Out of office", deliver=False, sender_type=SenderType.SYSTEM
        )
    assert not Delivery.objects.filter(message__in=[note, customer, stored]).exists()
    assert worker.sweep_deliveries() == 0
    assert smtp_server.received == []


def test_workflow_reply_is_sent_marked_automatic(email_conversation, smtp_server, django_capture_on_commit_callbacks):
    reply_message = None
    with django_capture_on_commit_callbacks(execute=True):
        reply_message = services.message_create(
            conversation=email_conversation, body="Thanks, we got it.", sender_type=SenderType.AI
        )
    [mail] = smtp_server.wait_for(1)
    assert mail.message["Auto-Submitted"] == "auto-replied"
    assert reply_message.delivery.external_id == mail.message["Message-ID"]


def test_transient_refusal_is_retried_and_sent_once(
    email_conversation, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.fail_next(451)
    message = reply(email_conversation, capture=django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 1 and "451" in delivery.error
    assert worker.sweep_deliveries() == 0  # not due before its backoff
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: delivery.next_attempt_at + dt.timedelta(seconds=1))
        assert worker.sweep_deliveries() == 1
        assert worker.sweep_deliveries() == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert [m.message["Message-ID"] for m in smtp_server.received] == [delivery.external_id]


def test_server_down_is_transient(email_conversation, smtp_server, django_capture_on_commit_callbacks):
    smtp_server.stop()
    message = reply(email_conversation, capture=django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.QUEUED and delivery.error

    smtp_server.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: delivery.next_attempt_at + dt.timedelta(seconds=1))
        worker.sweep_deliveries()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len(smtp_server.wait_for(1)) == 1


def test_permanent_refusal_fails_with_the_error(email_conversation, smtp_server, django_capture_on_commit_callbacks):
    smtp_server.fail_next(550, text="Mailbox unavailable")
    message = reply(email_conversation, capture=django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.FAILED
    assert "550" in delivery.error and "Mailbox unavailable" in delivery.error
    assert smtp_server.received == []


def test_retries_end_after_the_max_attempts(
    email_conversation, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.HELPDESK_RETRY_MAX_ATTEMPTS = 2
    smtp_server.fail_next(421, times=2)
    message = reply(email_conversation, capture=django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(message=message)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: delivery.next_attempt_at + dt.timedelta(seconds=1))
        worker.sweep_deliveries()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2 and "421" in delivery.error


def test_sender_killed_mid_send_resends_under_the_same_message_id(
    email_conversation, smtp_server, django_capture_on_commit_callbacks
):
    # The queue message is lost and a sender takes the lease, hands the mail to the server, then dies before it
    # could mark the row: the server has the mail, the row is still queued under a lease.
    message = services.message_create(conversation=email_conversation, body="Answer", sender_type=SenderType.AGENT)
    delivery = Delivery.objects.get(message=message)
    claimed = worker.claim(delivery.pk)
    from inboxes.outbound.email import build_email, connection_for, thread_headers

    mail = build_email(claimed, thread_headers(claimed.message))
    mail.connection = connection_for(claimed.inbox)
    mail.send()
    assert worker.sweep_deliveries() == 0  # the lease still holds: nobody else sends it

    later = clock.now() + worker.lease() + dt.timedelta(seconds=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: later)
        assert worker.sweep_deliveries() == 1
    delivery.refresh_from_db()
    ids = [m.message["Message-ID"] for m in smtp_server.wait_for(2)]
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert ids == [delivery.external_id, delivery.external_id]  # at-least-once, never under two ids


def test_failed_delivery_can_be_retried(email_conversation, smtp_server, django_capture_on_commit_callbacks):
    smtp_server.fail_next(550)
    message = reply(email_conversation, capture=django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(message=message)
    external_id = delivery.external_id
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.external_id == external_id
    assert smtp_server.wait_for(1)[0].message["Message-ID"] == external_id


def test_inbox_smtp_override_is_used(contact, team, smtp_server, settings, django_capture_on_commit_callbacks):
    from conversations.models import Inbox
    from workflows.integrations.crypto import encrypt_json

    settings.EMAIL_PORT = 1  # the project's server is unreachable; the inbox names its own
    inbox = Inbox.objects.create(
        name="Sales",
        channel="email",
        address="sales@helpdesk.test",
        smtp={"host": "127.0.0.1", "port": smtp_server.port, "username": "", "starttls": False},
        secrets_encrypted=encrypt_json({"smtp_password": ""}),
    )
    conversation = services.conversation_open(contact=contact, channel="email", subject="Quote", inbox=inbox)
    reply(conversation, capture=django_capture_on_commit_callbacks)
    [mail] = smtp_server.wait_for(1)
    assert mail.message["From"] == "Sales <sales@helpdesk.test>"
    assert mail.message["Subject"] == f"Re: Quote [#{conversation.pk}]"


@pytest.mark.parametrize(
    "subject, expected",
    [
        ("Printer on fire", "Re: Printer on fire [#7]"),
        ("RE: Aw: Printer [#7]", "Re: Printer [#7]"),
        ("", "Re: [#7]"),
    ],
)
def test_reply_subject(subject, expected):
    assert reply_subject(subject, 7) == expected


def test_settings_read_email_from_the_environment(monkeypatch):
    import importlib

    import helpdesk.settings as project

    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", "2525")
    monkeypatch.setenv("EMAIL_HOST_USER", "mailer")
    monkeypatch.setenv("EMAIL_HOST_PASSWORD", "s3cret")
    monkeypatch.setenv("EMAIL_USE_TLS", "true")
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", "help@example.org")
    try:
        fresh = importlib.reload(project)
        assert (
            fresh.EMAIL_BACKEND,
            fresh.EMAIL_HOST,
            fresh.EMAIL_PORT,
            fresh.EMAIL_HOST_USER,
            fresh.EMAIL_HOST_PASSWORD,
            fresh.EMAIL_USE_TLS,
            fresh.DEFAULT_FROM_EMAIL,
        ) == (
            "django.core.mail.backends.smtp.EmailBackend",
            "127.0.0.1",
            2525,
            "mailer",
            "s3cret",
            True,
            "help@example.org",
        )
    finally:
        monkeypatch.undo()
        importlib.reload(project)


def test_replies_sent_in_one_batch_thread_onto_each_other(email_conversation, smtp_server):
    # Their queue messages are lost (no commit hooks run here): one sweep sends both, in order, in one SMTP session.
    first = services.message_create(conversation=email_conversation, body="One", sender_type=SenderType.AGENT)
    services.message_create(conversation=email_conversation, body="Two", sender_type=SenderType.AGENT)
    assert worker.sweep_deliveries() == 2
    mails = smtp_server.wait_for(2)
    first_id = Delivery.objects.get(message=first).external_id
    assert mails[0].message["Message-ID"] == first_id
    assert mails[1].message["In-Reply-To"] == first_id
    assert mails[1].message["References"].split() == ["<first-mail@customer.test>", first_id]


def test_workflow_auto_reply_to_a_customer_mail_is_sent(email_conversation, smtp_server):
    from tests.support.runs import drain
    from workflows import services as workflow_services

    drain()  # the opening mail's events, before the workflow exists
    workflow_services.workflow_create(
        definition={
            "name": "Acknowledge mail",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
            "steps": [{"type": "auto_reply", "config": {"text": "Thanks {{ contact.name }}, we got your mail."}}],
        }
    )
    services.message_create(conversation=email_conversation, body="Any news?", sender_type=SenderType.CUSTOMER)
    drain()
    assert worker.sweep_deliveries() == 1
    [mail] = smtp_server.wait_for(1)
    reply_message = email_conversation.messages.get(sender_type=SenderType.AI)
    assert mail.message["Message-ID"] == reply_message.delivery.external_id
    assert mail.message.get_body(("plain",)).get_content().strip() == "Thanks Ada Lovelace, we got your mail."
    assert mail.message["Auto-Submitted"] == "auto-replied"

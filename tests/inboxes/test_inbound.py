"""The inbound door and the import service (docs/channels.md): one raw mail → one message of the right conversation, once;
threading by headers and subject tag; reopening; auto-replies and bounces; one transaction per import."""

from __future__ import annotations

import pytest

from conversations import services
from conversations.choices import DeliveryStatus, EmailDirection, Status
from conversations.models import Contact, Conversation, Delivery, EmailHeaders, Event, Message
from inboxes import inbound
from inboxes.inbound import import_raw_mail
from inboxes.services import inbox_create
from tests.support.mail import make_mail, post_mail
from tests.support.people import client_for


def sent_mail(conversation, inbox, message_id: str, body: str = "We are looking into it.") -> Message:
    """What the outbound side leaves behind for a sent answer: the message, its headers and its delivery."""
    message = services.message_create(conversation=conversation, body=body, sender_type="agent")
    EmailHeaders.objects.create(
        message=message,
        inbox=inbox,
        direction=EmailDirection.OUTBOUND,
        message_id_header=message_id,
        subject=f"Re: {conversation.subject}",
    )
    Delivery.objects.get_or_create(message=message, defaults={"inbox": inbox, "external_id": message_id})
    return message


def test_a_new_mail_opens_a_conversation_in_the_inbox(inbound_client, inbox, team):
    response = post_mail(inbound_client, inbox, make_mail(subject="My order is late"))
    assert response.status_code == 202, response.content
    conversation = Conversation.objects.get(pk=response.json()["conversation"])
    assert (conversation.channel, conversation.subject, conversation.inbox, conversation.team) == (
        "email",
        "My order is late",
        inbox,
        team,
    )
    assert conversation.contact.email == "bo@customer.test" and conversation.contact.name == "Bo Customer"
    message = Message.objects.get(pk=response.json()["message"])
    assert (message.sender_type, message.body) == ("customer", "Where is my parcel?")
    assert message.email.direction == "inbound" and message.email.from_address == "bo@customer.test"
    assert bytes(message.email.raw).startswith(b"From:") or b"Subject:" in bytes(message.email.raw)


def test_the_same_mail_twice_is_imported_once(inbound_client, inbox):
    raw = make_mail()
    first, second = post_mail(inbound_client, inbox, raw), post_mail(inbound_client, inbox, raw)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert Message.objects.count() == 1


def test_a_mail_without_message_id_gets_a_stable_digest(inbound_client, inbox):
    raw = make_mail().replace(b"Message-ID:", b"X-Old-Id:")
    first, second = post_mail(inbound_client, inbox, raw), post_mail(inbound_client, inbox, raw)
    assert first.json() == second.json() and Message.objects.count() == 1
    assert EmailHeaders.objects.get().message_id_header.endswith(f"@inbox-{inbox.pk}.helpdesk>")


def test_a_missing_wrong_or_user_token_is_401(inbox, anon_client, manager):
    raw = make_mail()
    assert post_mail(anon_client, inbox, raw).status_code == 401
    anon_client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert post_mail(anon_client, inbox, raw).status_code == 401
    assert post_mail(client_for(manager), inbox, raw).status_code == 401  # a user's API token is not the inbox's
    assert Message.objects.count() == 0


def test_another_inboxs_token_is_401(inbox, team):
    _, other_token = inbox_create(name="Other", channel="email", address="other@helpdesk.test")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {other_token}")
    assert post_mail(client, inbox, make_mail()).status_code == 401


def test_octet_stream_is_taken_and_json_is_415(inbound_client, inbox):
    raw = make_mail()
    response = inbound_client.post(
        f"/api/inboxes/{inbox.pk}/inbound/", data=raw, content_type="application/octet-stream"
    )
    assert response.status_code == 202
    assert inbound_client.post(f"/api/inboxes/{inbox.pk}/inbound/", {"raw": "x"}, format="json").status_code == 415


def test_an_empty_or_garbage_body_never_500(inbound_client, inbox):
    assert post_mail(inbound_client, inbox, b"").status_code == 400
    response = post_mail(inbound_client, inbox, b"\x00\xff\xfe not a mail at all \r\n\r\n\x80")
    assert response.status_code == 202
    assert Message.objects.get(pk=response.json()["message"]).body


def test_a_reply_to_our_sent_mail_joins_by_in_reply_to(inbound_client, inbox):
    conversation = Conversation.objects.get(pk=post_mail(inbound_client, inbox, make_mail()).json()["conversation"])
    sent_mail(conversation, inbox, "<answer-1@helpdesk.test>")
    reply = make_mail(
        subject="Re: My order is late",
        body="Thanks, still waiting.\n\nOn Mon, 1 Dec 2026 at 10:00, "
        "Support <support@helpdesk.test> wrote:\n> We are looking into it.",
        in_reply_to="<answer-1@helpdesk.test>",
    )
    response = post_mail(inbound_client, inbox, reply)
    assert response.json()["conversation"] == conversation.pk
    assert Message.objects.get(pk=response.json()["message"]).body == "Thanks, still waiting."
    assert "We are looking into it." in EmailHeaders.objects.get(message_id=response.json()["message"]).full_text


def test_references_alone_thread_the_mail(inbound_client, inbox):
    conversation = Conversation.objects.get(pk=post_mail(inbound_client, inbox, make_mail()).json()["conversation"])
    sent_mail(conversation, inbox, "<answer-2@helpdesk.test>")
    reply = make_mail(subject="Something else entirely", references="<unknown@x.test> <answer-2@helpdesk.test>")
    assert post_mail(inbound_client, inbox, reply).json()["conversation"] == conversation.pk


def test_the_subject_tag_threads_only_within_the_inbox(inbound_client, inbox):
    conversation = Conversation.objects.get(pk=post_mail(inbound_client, inbox, make_mail()).json()["conversation"])
    tagged = make_mail(subject=f"Re: My order is late [#{conversation.pk}]")
    assert post_mail(inbound_client, inbox, tagged).json()["conversation"] == conversation.pk
    elsewhere = services.conversation_open(contact=conversation.contact, channel="email", subject="Other")
    foreign = make_mail(subject=f"Re: Other [#{elsewhere.pk}]")
    assert post_mail(inbound_client, inbox, foreign).json()["conversation"] not in (elsewhere.pk, conversation.pk)


def test_the_contact_is_found_by_address_case_insensitively(inbound_client, inbox):
    known = services.contact_create(name="Bo", email="Bo@Customer.test")
    response = post_mail(inbound_client, inbox, make_mail(sender="BO@CUSTOMER.TEST"))
    assert Conversation.objects.get(pk=response.json()["conversation"]).contact == known
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED, Status.PENDING])
def test_a_reply_reopens_a_finished_conversation_with_an_event(inbound_client, inbox, status):
    conversation = Conversation.objects.get(pk=post_mail(inbound_client, inbox, make_mail()).json()["conversation"])
    services.conversation_change_status(conversation=conversation, status=status)
    post_mail(inbound_client, inbox, make_mail(subject=f"Re: again [#{conversation.pk}]"))
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    change = (
        Event.objects.filter(conversation=conversation, type="conversation.status_changed")
        .order_by("-occurred_at")
        .first()
    )
    assert (change.payload["from"], change.payload["to"]) == (status, "open")


@pytest.mark.parametrize(
    "header",
    [
        ("Auto-Submitted", "auto-replied"),
        ("Precedence", "bulk"),
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "Out of office"),
    ],
)
def test_auto_replies_are_system_messages_that_start_nothing(inbound_client, inbox, header):
    conversation = Conversation.objects.get(pk=post_mail(inbound_client, inbox, make_mail()).json()["conversation"])
    sent_mail(conversation, inbox, "<answer-3@helpdesk.test>")
    services.conversation_change_status(conversation=conversation, status=Status.RESOLVED)
    before = Event.objects.filter(type="message.created", payload__sender_type="customer").count()
    response = post_mail(
        inbound_client,
        inbox,
        make_mail(
            subject="Out of office",
            body="I am away until Monday.",
            in_reply_to="<answer-3@helpdesk.test>",
            headers=dict([header]),
        ),
    )
    message = Message.objects.get(pk=response.json()["message"])
    assert message.sender_type == "system" and message.email.auto_submitted
    assert Event.objects.filter(type="message.created", payload__sender_type="customer").count() == before
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED  # an auto-reply does not reopen


def test_auto_submitted_no_is_a_person(inbound_client, inbox):
    response = post_mail(inbound_client, inbox, make_mail(headers={"Auto-Submitted": "no"}))
    assert Message.objects.get(pk=response.json()["message"]).sender_type == "customer"


def test_a_bounce_fails_the_delivery_of_the_mail_it_returns(inbound_client, inbox):
    conversation = Conversation.objects.get(pk=post_mail(inbound_client, inbox, make_mail()).json()["conversation"])
    answer = sent_mail(conversation, inbox, "<answer-4@helpdesk.test>")
    dsn = (
        b"From: MAILER-DAEMON@mx.helpdesk.test (Mail Delivery System)\r\nTo: support@helpdesk.test\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.helpdesk.test>\r\n"
        b"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be "
        b"delivered.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.helpdesk.test\r\n\r\n"
        b"Final-Recipient: rfc822; bo@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <bo@customer.test>: Recipient address rejected: User unknown\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@helpdesk.test\r\nTo: bo@customer.test\r\n"
        b"Message-ID: <answer-4@helpdesk.test>\r\nSubject: Re: My order is late\r\n--B--\r\n"
    )
    response = post_mail(inbound_client, inbox, dsn)
    assert response.json()["conversation"] == conversation.pk
    assert Message.objects.get(pk=response.json()["message"]).sender_type == "system"
    delivery = Delivery.objects.get(message=answer)
    assert delivery.status == DeliveryStatus.FAILED
    assert "5.1.1" in delivery.error and "User unknown" in delivery.error


@pytest.mark.django_db(transaction=True)
def test_a_crash_mid_import_leaves_nothing_and_the_retry_imports_once(team, monkeypatch):
    inbox, _ = inbox_create(name="Crash", channel="email", team=team, address="crash@helpdesk.test")
    raw = make_mail()

    def crash(message, mail):
        assert Message.objects.filter(pk=message.pk).exists()  # the message row is written...
        raise RuntimeError("worker killed")  # ...and the worker dies before the commit

    with monkeypatch.context() as patched:
        patched.setattr(inbound, "_keep_files", crash)
        with pytest.raises(RuntimeError):
            import_raw_mail(inbox=inbox, raw=raw)
    assert (
        Message.objects.count(),
        Conversation.objects.count(),
        EmailHeaders.objects.count(),
        Event.objects.filter(type__startswith="message").count(),
    ) == (0, 0, 0, 0)
    first, again = import_raw_mail(inbox=inbox, raw=raw), import_raw_mail(inbox=inbox, raw=raw)
    assert first.created and not again.created and first.message.pk == again.message.pk
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1


def test_query_count_of_one_import_is_bounded(inbound_client, inbox, django_assert_max_num_queries):
    raw = make_mail()
    with django_assert_max_num_queries(40):
        assert post_mail(inbound_client, inbox, raw).status_code == 202


def test_a_reply_to_a_merged_conversation_lands_in_its_target(inbound_client, inbox):
    """A reply to the source's mail thread, by its headers or its subject tag, lands in the merge target."""
    first_mail = make_mail(subject="First", message_id="<first@customer.test>")
    first = post_mail(inbound_client, inbox, first_mail).json()["conversation"]
    target = post_mail(inbound_client, inbox, make_mail(subject="Second")).json()["conversation"]
    services.conversation_merge(source=Conversation.objects.get(pk=first), target=Conversation.objects.get(pk=target))
    by_tag = post_mail(inbound_client, inbox, make_mail(subject=f"Re: First [#{first}]"))
    by_headers = post_mail(inbound_client, inbox, make_mail(subject="Re: First", in_reply_to="<first@customer.test>"))
    assert by_tag.json()["conversation"] == target
    assert by_headers.json()["conversation"] == target


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_importing_one_mail_at_once_make_one_message(team, monkeypatch):
    import threading

    from django.db import connection

    inbox, _ = inbox_create(name="Race", channel="email", team=team, address="race@helpdesk.test")
    raw = make_mail(subject="Delivered twice at once")
    barrier, real_find_thread = threading.Barrier(2, timeout=30), inbound.find_thread

    def find_thread_together(**kwargs):
        barrier.wait()  # both workers are past the "already imported?" check before either writes
        return real_find_thread(**kwargs)

    monkeypatch.setattr(inbound, "find_thread", find_thread_together)
    results, errors = [], []

    def worker() -> None:
        try:
            results.append(import_raw_mail(inbox=inbox, raw=raw))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(result.created for result in results) == [False, True]
    assert len({result.message.pk for result in results}) == 1
    assert (Message.objects.count(), Conversation.objects.count()) == (1, 1)

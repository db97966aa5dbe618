"""IMAP polling against a real dovecot on loopback (docs/channels.md): unseen mail imported once, flagged \\Seen only after
its import committed, a re-poll imports nothing, a failed import leaves the mail unseen, a bad login is recorded."""

from __future__ import annotations

import imaplib

import pytest

from conversations.models import Conversation, Inbox, Message
from inboxes import inbound
from inboxes.imap import poll_inbox
from inboxes.probe import probe_imap
from inboxes.services import inbox_create, inbox_update
from inboxes.tasks import poll_imap_inboxes_task
from tests.support.mail import make_mail

pytestmark = pytest.mark.services


@pytest.fixture
def mailbox(dovecot_server):
    """A clean INBOX on the shared dovecot, and an imaplib client to append to and read it."""
    client = imaplib.IMAP4(dovecot_server.host, dovecot_server.port)
    client.login(dovecot_server.user, dovecot_server.password)
    client.select("INBOX")
    client.store("1:*", "+FLAGS", "\\Deleted") if client.search(None, "ALL")[1][0] else None
    client.expunge()
    yield client
    client.logout()


@pytest.fixture
def imap_inbox(db, team, dovecot_server) -> Inbox:
    inbox, _ = inbox_create(
        name="IMAP support",
        channel="email",
        team=team,
        address="support@helpdesk.test",
        imap={
            "host": dovecot_server.host,
            "port": dovecot_server.port,
            "ssl": False,
            "username": dovecot_server.user,
            "password": dovecot_server.password,
            "folder": "INBOX",
        },
    )
    return inbox


def unseen(client) -> list[bytes]:
    client.select("INBOX")
    return client.search(None, "UNSEEN")[1][0].split()


def test_poll_imports_unseen_mail_once_and_marks_it_seen(mailbox, imap_inbox):
    for number in range(3):
        mailbox.append("INBOX", None, None, make_mail(subject=f"Question {number}"))
    assert len(unseen(mailbox)) == 3
    result = poll_inbox(inbox=imap_inbox)
    assert (result.imported, result.failed) == (3, 0)
    assert Conversation.objects.filter(inbox=imap_inbox).count() == 3
    assert unseen(mailbox) == []
    again = poll_inbox(inbox=imap_inbox)
    assert (again.imported, again.duplicates) == (0, 0) and Message.objects.count() == 3
    imap_inbox.refresh_from_db()
    assert imap_inbox.last_polled_at is not None and imap_inbox.last_poll_error == ""


def test_a_mail_seen_again_after_a_crash_is_not_doubled(mailbox, imap_inbox):
    raw = make_mail(subject="Imported, then the worker died before flagging")
    mailbox.append("INBOX", None, None, raw)
    inbound.import_raw_mail(inbox=imap_inbox, raw=raw)  # the import committed; \Seen was never set
    result = poll_inbox(inbox=imap_inbox)
    assert (result.imported, result.duplicates) == (0, 1)
    assert Message.objects.count() == 1 and unseen(mailbox) == []


def test_a_failed_import_leaves_the_mail_unseen_for_the_next_poll(mailbox, imap_inbox, monkeypatch):
    mailbox.append("INBOX", None, None, make_mail(subject="Poison"))

    def crash(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("inboxes.imap.import_raw_mail", crash)
    result = poll_inbox(inbox=imap_inbox)
    assert result.failed == 1 and len(unseen(mailbox)) == 1
    imap_inbox.refresh_from_db()
    assert "database went away" in imap_inbox.last_poll_error
    monkeypatch.undo()
    assert poll_inbox(inbox=imap_inbox).imported == 1 and unseen(mailbox) == []


def test_the_scheduled_task_polls_every_active_imap_inbox(mailbox, imap_inbox):
    mailbox.append("INBOX", None, None, make_mail())
    assert poll_imap_inboxes_task() == {imap_inbox.pk: {"imported": 1, "duplicates": 0, "failed": 0}}
    inbox_update(inbox=imap_inbox, active=False)
    mailbox.append("INBOX", None, None, make_mail())
    assert poll_imap_inboxes_task() == {}


def test_a_wrong_password_is_recorded_and_named_by_the_probe(mailbox, imap_inbox):
    inbox_update(inbox=imap_inbox, imap={**imap_inbox.imap, "password": "wrong"})
    poll_inbox(inbox=imap_inbox)
    imap_inbox.refresh_from_db()
    assert imap_inbox.last_poll_error
    probe = probe_imap(imap_inbox)
    assert not probe.ok and "refused the login" in probe.message


def test_the_probe_names_a_missing_folder_and_a_closed_port(mailbox, imap_inbox):
    assert probe_imap(imap_inbox).ok
    inbox_update(inbox=imap_inbox, imap={**imap_inbox.imap, "folder": "Nope"})
    assert "folder 'Nope'" in probe_imap(imap_inbox).message
    from tests.infra.servers import free_port

    inbox_update(inbox=imap_inbox, imap={**imap_inbox.imap, "port": free_port()})
    assert "could not connect" in probe_imap(imap_inbox).message

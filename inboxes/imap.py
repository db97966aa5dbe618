"""IMAP polling (docs/channels.md): each active email inbox with IMAP settings is read for unseen mail, each mail imported
through `import_raw_mail`, and only then flagged \\Seen — a worker killed between the two leaves the mail unseen, and
the next poll's import finds it already imported (Message-ID unique per inbox), so nothing is lost or doubled.
Mail is fetched with BODY.PEEK, which never sets \\Seen by itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from imap_tools import AND, MailBox, MailBoxUnencrypted
from imap_tools.message import MailMessage

from conversations import clock
from conversations.choices import InboxChannel
from conversations.models import Inbox
from inboxes.inbound import import_raw_mail
from inboxes.services import inbox_record_poll, inbox_secret

logger = logging.getLogger(__name__)
IMAP_TIMEOUT_SECONDS = 30
MAX_MAILS_PER_POLL = 500


@dataclass
class PollResult:
    imported: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def connect(inbox: Inbox):
    """A logged-in imap-tools mailbox on the inbox's folder (raises what the server or network raised)."""
    settings = inbox.imap
    kind = MailBox if settings.get("ssl", True) else MailBoxUnencrypted
    port = int(settings.get("port") or (993 if settings.get("ssl", True) else 143))
    mailbox = kind(settings["host"], port=port, timeout=IMAP_TIMEOUT_SECONDS)
    return mailbox.login(
        settings.get("username", ""),
        inbox_secret(inbox, "imap_password"),
        initial_folder=settings.get("folder") or "INBOX",
    )


def poll_inbox(*, inbox: Inbox, limit: int = MAX_MAILS_PER_POLL) -> PollResult:
    """Import the inbox's unseen mail (up to `limit`), flag each \\Seen after its import committed, and record
    when the poll ran and what failed."""
    result = PollResult()
    try:
        with connect(inbox) as mailbox:
            for uid in mailbox.uids(AND(seen=False))[:limit]:
                _import_one(inbox, mailbox, uid, result)
    except Exception as exc:  # network, TLS, login, folder: the manager reads it on the inbox
        logger.warning("IMAP poll of inbox %s failed: %s", inbox.pk, exc)
        result.errors.insert(0, f"{type(exc).__name__}: {exc}")
    inbox_record_poll(inbox=inbox, at=clock.now(), error="; ".join(result.errors))
    return result


def _import_one(inbox: Inbox, mailbox, uid: str, result: PollResult) -> None:
    raw = _fetch_raw(mailbox, uid)
    if raw is None:
        return
    try:
        imported = import_raw_mail(inbox=inbox, raw=raw)
    except Exception as exc:  # one broken import must not stop the others; the mail stays unseen for a retry
        logger.exception("Import of IMAP uid %s of inbox %s failed", uid, inbox.pk)
        result.failed += 1
        result.errors.append(f"uid {uid}: {type(exc).__name__}: {exc}")
        return
    mailbox.flag(uid, "\\Seen", True)  # only now: the import has committed
    if imported.created:
        result.imported += 1
    else:
        result.duplicates += 1


def _fetch_raw(mailbox, uid: str) -> bytes | None:
    """The mail's bytes as stored on the server, without setting \\Seen."""
    typ, data = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if typ != "OK" or not data or data[0] is None:
        return None
    raw = MailMessage._get_message_data_parts(data)[0]
    return raw or None


def poll_all_inboxes() -> dict:
    """Poll every active email inbox that has IMAP settings; one inbox failing does not stop the others."""
    summary = {}
    for inbox in Inbox.objects.filter(active=True, channel=InboxChannel.EMAIL).exclude(imap={}):
        if not inbox.imap.get("host"):
            continue
        result = poll_inbox(inbox=inbox)
        summary[inbox.pk] = {"imported": result.imported, "duplicates": result.duplicates, "failed": result.failed}
    return summary

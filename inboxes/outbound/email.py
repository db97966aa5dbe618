"""An answer as a mail (docs/channels.md): from the inbox address to the contact and the thread's Cc, `Re: <subject> [#id]`,
its own fixed `Message-ID`, `In-Reply-To` / `References` to the thread, the message's attachments; sent through
Django's mail API (the project's `EMAIL_*` settings, or the inbox's own SMTP server). After the server accepted it,
the delivery is marked sent and an outbound `EmailHeaders` row is written in one transaction, so replies thread.
"""

from __future__ import annotations

import re
import smtplib
import socket
from email.utils import formataddr, getaddresses

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F

from conversations.choices import EmailDirection, SenderType
from conversations.models import Delivery, EmailHeaders, Message
from inboxes.outbound.outcome import SendFailure, mark_sent
from workflows.integrations.crypto import decrypt_json

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
SMTP_TIMEOUT_SECONDS = 30
MAX_REFERENCES = 20  # long threads keep the first and the latest ids, as mail clients do
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fwd?|wg)\s*:\s*)+", re.IGNORECASE)
_TAG = re.compile(r"\s*\[#\d+\]\s*")


def reply_subject(subject: str, conversation_id: int) -> str:
    """`Re: <subject> [#<id>]`, without piling up `Re:` prefixes or tags from earlier replies."""
    core = _TAG.sub(" ", _REPLY_PREFIX.sub("", subject or "")).strip()
    return f"Re: {core} [#{conversation_id}]" if core else f"Re: [#{conversation_id}]"


def _address(entry) -> str:
    """One address from a stored To/Cc entry (a string `Name <a@b>` or a dict with `address`/`email`)."""
    if isinstance(entry, dict):
        return str(entry.get("address") or entry.get("email") or "")
    return getaddresses([str(entry)])[0][1]


def thread_headers(message: Message) -> list[EmailHeaders]:
    """The mails of the message's conversation before it (received and sent), oldest first."""
    return list(
        EmailHeaders.objects.filter(message__conversation_id=message.conversation_id)
        .exclude(message_id=message.pk)
        .order_by("message__created_at", "message_id")
    )


def thread_cc(thread: list[EmailHeaders], exclude: set[str]) -> list[str]:
    """The Cc of the last mail the customer side sent, minus our own address and the contact."""
    inbound = [headers for headers in thread if headers.direction == EmailDirection.INBOUND]
    if not inbound:
        return []
    seen, cc = set(exclude), []
    for address in map(_address, inbound[-1].cc or []):
        if address and address.lower() not in seen:
            seen.add(address.lower())
            cc.append(address)
    return cc


def references(thread: list[EmailHeaders]) -> list[str]:
    ids = [headers.message_id_header for headers in thread if headers.message_id_header]
    return ids if len(ids) <= MAX_REFERENCES else ids[:1] + ids[-(MAX_REFERENCES - 1) :]


class SmtpSessions:
    """What a batch of mails shares: one open SMTP session per inbox (closed at the end, or dropped after an error so
    the next mail starts a fresh one), and the threads of the batch's conversations, read in one query and extended
    with each mail sent."""

    def __init__(self):
        self._open: dict[int, object] = {}
        self._threads: dict[int, list[EmailHeaders]] | None = None

    def preload_threads(self, deliveries: list[Delivery]) -> None:
        """Read the mails of every conversation of the batch at once."""
        ids = {delivery.message.conversation_id for delivery in deliveries}
        self._threads = {conversation_id: [] for conversation_id in ids}
        rows = (
            EmailHeaders.objects.filter(message__conversation_id__in=ids)
            .annotate(thread_of=F("message__conversation_id"))
            .order_by("message__created_at", "message_id")
        )
        for headers in rows:
            self._threads[headers.thread_of].append(headers)

    def thread(self, message: Message) -> list[EmailHeaders]:
        if self._threads is None or message.conversation_id not in self._threads:
            return thread_headers(message)
        return [headers for headers in self._threads[message.conversation_id] if headers.message_id != message.pk]

    def remember(self, message: Message, headers: EmailHeaders) -> None:
        if self._threads is not None and message.conversation_id in self._threads:
            self._threads[message.conversation_id].append(headers)

    def __enter__(self) -> SmtpSessions:
        return self

    def __exit__(self, *exc_info) -> None:
        for session in self._open.values():
            self._close(session)
        self._open.clear()

    def for_inbox(self, inbox):
        if inbox.pk not in self._open:
            session = connection_for(inbox)
            session.open()
            self._open[inbox.pk] = session
        return self._open[inbox.pk]

    def drop(self, inbox) -> None:
        session = self._open.pop(inbox.pk, None)
        if session is not None:
            self._close(session)

    @staticmethod
    def _close(session) -> None:
        try:
            session.close()
        except Exception:  # a session the server already dropped
            pass


def connection_for(inbox):
    """The inbox's own SMTP server when it has one (password from its sealed secrets), else the project's."""
    smtp = inbox.smtp or {}
    if not smtp.get("host"):
        return get_connection(fail_silently=False)
    secrets = decrypt_json(inbox.secrets_encrypted, {}) or {}
    return get_connection(
        backend=SMTP_BACKEND,
        fail_silently=False,
        host=smtp["host"],
        port=int(smtp.get("port") or 25),
        username=smtp.get("username") or "",
        password=secrets.get("smtp_password") or "",
        use_tls=bool(smtp.get("starttls", False)),
        use_ssl=bool(smtp.get("ssl", False)),
        timeout=SMTP_TIMEOUT_SECONDS,
    )


def build_email(delivery: Delivery, thread: list[EmailHeaders]) -> EmailMessage:
    """The mail of one delivery, with its fixed Message-ID; SendFailure when there is nobody to send it to."""
    message, inbox = delivery.message, delivery.inbox
    conversation = message.conversation
    to = (conversation.contact.email or "").strip()
    if not to:
        raise SendFailure("The contact has no email address.", transient=False)
    from_address = inbox.address or settings.DEFAULT_FROM_EMAIL
    display = conversation.team.name if conversation.team_id else inbox.name
    ids = references(thread)
    headers = {"Message-ID": delivery.external_id}
    if ids:
        headers.update({"In-Reply-To": ids[-1], "References": " ".join(ids)})
    if message.sender_type in (SenderType.AI, SenderType.SYSTEM):
        headers["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots never answer it (no loops)
    mail = EmailMessage(
        subject=reply_subject(conversation.subject, conversation.pk),
        body=message.body,
        from_email=formataddr((display, from_address)),
        to=[to],
        cc=thread_cc(thread, {from_address.lower(), to.lower()}),
        headers=headers,
    )
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            mail.attach(attachment.filename, handle.read(), attachment.content_type or None)
    return mail


def classify(exc: Exception) -> SendFailure:
    """SMTP 4xx, refused connections, timeouts and dropped sessions may pass later; SMTP 5xx will not."""
    code, reply = getattr(exc, "smtp_code", None), getattr(exc, "smtp_error", b"")
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, reply = min(exc.recipients.values())
    if isinstance(code, int):
        reply = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        text = f"SMTP {code} {reply}".strip()
    else:
        text = f"{type(exc).__name__}: {exc}"
    if isinstance(code, int) and code >= 500:
        return SendFailure(text, transient=False)
    if isinstance(exc, (smtplib.SMTPException, OSError, socket.timeout)):
        return SendFailure(text, transient=True)
    return SendFailure(text, transient=False)


def send_email_delivery(delivery: Delivery, sessions: SmtpSessions | None = None) -> None:
    """Send one delivery's mail (no transaction open), then mark it sent and keep its headers for threading."""
    thread = sessions.thread(delivery.message) if sessions else thread_headers(delivery.message)
    mail = build_email(delivery, thread)
    try:
        mail.connection = sessions.for_inbox(delivery.inbox) if sessions else connection_for(delivery.inbox)
        if not mail.send(fail_silently=False):
            raise smtplib.SMTPServerDisconnected("The server did not take the mail.")
    except Exception as exc:
        if sessions:
            sessions.drop(delivery.inbox)
        raise classify(exc) from exc
    with transaction.atomic():
        mark_sent(delivery)
        headers = _record_headers(delivery, mail)
    if sessions:
        sessions.remember(delivery.message, headers)


def _record_headers(delivery: Delivery, mail: EmailMessage) -> EmailHeaders:
    """The sent mail's headers (a plain INSERT: a delivery is marked sent in this same transaction, so no earlier
    attempt can have committed them)."""
    from_name, from_address = getaddresses([mail.from_email])[0]
    return EmailHeaders.objects.create(
        inbox=delivery.inbox,
        message_id_header=delivery.external_id,
        message=delivery.message,
        direction=EmailDirection.OUTBOUND,
        in_reply_to=mail.extra_headers.get("In-Reply-To", ""),
        references=mail.extra_headers.get("References", ""),
        from_name=from_name,
        from_address=from_address,
        to=list(mail.to),
        cc=list(mail.cc),
        subject=mail.subject,
        full_text=mail.body,
    )

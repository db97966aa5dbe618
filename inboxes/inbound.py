"""The one import service behind every inbound door (IMAP polling, `POST /api/inboxes/{id}/inbound/`, provider
webhooks): a raw mail becomes a message of a conversation of its inbox (docs/channels.md).

The whole import is one transaction — the message, its `EmailHeaders` row, its files, the events (and a bounce's
delivery verdict) commit together or not at all, so a worker killed mid-import loses nothing (the mail is still
unseen / the webhook is retried) and doubles nothing (the Message-ID is unique per inbox: a second import of the
same mail returns the first one's ids).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from conversations import clock
from conversations import services as domain
from conversations.choices import Channel, DeliveryStatus, EmailDirection, SenderType, Status
from conversations.models import Contact, Conversation, Delivery, EmailHeaders, Inbox, Message
from conversations.services.checks import MAX_BODY_LENGTH
from inboxes.parsing import ParsedMail, digest_message_id, parse_mail
from inboxes.threads import find_thread

logger = logging.getLogger(__name__)
EMPTY_BODY = "(This mail has no text.)"
UNKNOWN_SENDER = "Unknown sender"


@dataclass(frozen=True)
class ImportResult:
    conversation: Conversation
    message: Message
    created: bool


def import_raw_mail(*, inbox: Inbox, raw: bytes) -> ImportResult:
    """Import one raw mail into `inbox` once; a mail already imported returns its ids with `created=False`."""
    mail = parse_mail(raw)
    message_id = mail.message_id or digest_message_id(raw, inbox.pk)
    existing = _already_imported(inbox, message_id)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _import(inbox=inbox, mail=mail, message_id=message_id, raw=raw)
    except IntegrityError:
        existing = _already_imported(inbox, message_id)  # another worker imported it at the same moment
        if existing is None:
            raise
        return existing


def _already_imported(inbox: Inbox, message_id: str) -> ImportResult | None:
    headers = (
        EmailHeaders.objects.filter(inbox=inbox, message_id_header=message_id)
        .select_related("message__conversation")
        .first()
    )
    if headers is None:
        return None
    return ImportResult(headers.message.conversation, headers.message, created=False)


def _import(*, inbox: Inbox, mail: ParsedMail, message_id: str, raw: bytes) -> ImportResult:
    automatic = mail.auto_submitted or _from_ourselves(inbox, mail)
    conversation = find_thread(inbox=inbox, mail=mail) or _open_conversation(inbox, mail)
    if not automatic and conversation.status == Status.CLOSED:
        # message_create reopens pending and resolved conversations; a closed one that gets a reply reopens too.
        domain.conversation_change_status(conversation=conversation, status=Status.OPEN)
    # deliver=False: nothing that came in is mailed back out (an auto-reply stored as a system message included).
    message = domain.message_create(
        conversation=conversation,
        body=_body(mail),
        sender_type=SenderType.SYSTEM if automatic else SenderType.CUSTOMER,
        deliver=False,
    )
    notes = _keep_files(message, mail)
    EmailHeaders.objects.create(
        message=message,
        inbox=inbox,
        direction=EmailDirection.INBOUND,
        message_id_header=message_id,
        in_reply_to=mail.in_reply_to,
        references=" ".join(mail.references)[:10_000],
        from_name=mail.from_name,
        from_address=mail.from_address,
        to=mail.to,
        cc=mail.cc,
        subject=mail.subject,
        full_text="\n\n".join([mail.full_text, *notes]).strip(),
        raw=raw,
        auto_submitted=automatic,
    )
    if mail.bounce is not None:
        _fail_bounced_deliveries(inbox, mail)
    return ImportResult(conversation, message, created=True)


def _from_ourselves(inbox: Inbox, mail: ParsedMail) -> bool:
    """A mail from the inbox's own address (a loop through a forwarding rule) is never answered."""
    return bool(inbox.address) and mail.from_address.lower() == inbox.address.lower()


def _body(mail: ParsedMail) -> str:
    body = mail.reply or mail.full_text or EMPTY_BODY
    return body if len(body) <= MAX_BODY_LENGTH else body[: MAX_BODY_LENGTH - 1] + "…"


def _open_conversation(inbox: Inbox, mail: ParsedMail) -> Conversation:
    channel = Channel.EMAIL if inbox.channel == "email" else inbox.channel
    return domain.conversation_open(
        contact=_contact(mail), channel=channel, subject=mail.subject[:300], team=inbox.team, inbox=inbox
    )


def _contact(mail: ParsedMail) -> Contact:
    """The contact of the sender's address (case-insensitive), made when there is none; the language the mail
    declares becomes the contact's when it has none yet (replies, surveys and emails then speak it)."""
    address = mail.from_address
    try:
        validate_email(address)
    except ValidationError:
        address = ""
    if address:
        contact = Contact.objects.filter(email__iexact=address).order_by("id").first()
        if contact is not None:
            if mail.language and not contact.language:  # the customer's language, once their client declares it
                domain.contact_update(contact=contact, language=mail.language)
            return contact
    name = (mail.from_name or address or UNKNOWN_SENDER)[:200]
    return domain.contact_create(name=name, email=address, language=mail.language)


def _keep_files(message: Message, mail: ParsedMail) -> list[str]:
    """Store the mail's files; one over the size limit is left out and named in the full text."""
    notes = []
    for part in mail.files:
        try:
            with transaction.atomic():
                domain.attachment_add(
                    message=message,
                    filename=part.filename,
                    content=part.content,
                    content_type=part.content_type,
                    content_id=part.content_id,
                )
        except ValidationError as exc:
            notes.append(f"[Not kept: {'; '.join(exc.messages)}]")
    return notes


def _fail_bounced_deliveries(inbox: Inbox, mail: ParsedMail) -> int:
    """A bounce of a mail we sent marks that message's delivery failed, with the report's reason."""
    sent = EmailHeaders.objects.filter(
        inbox=inbox, direction=EmailDirection.OUTBOUND, message_id_header__in=mail.bounce.original_message_ids
    )
    return Delivery.objects.filter(message__in=sent.values("message")).update(
        status=DeliveryStatus.FAILED,
        error=mail.bounce.reason,
        lease_until=None,
        next_attempt_at=None,
        updated_at=clock.now(),
    )

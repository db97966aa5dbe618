"""Messages: post one, keeping sentiment, response timestamps and status in step."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations import clock, payloads
from conversations.choices import (
    EventType,
    SenderType,
    Status,
)
from conversations.events import record_event
from conversations.models import (
    Conversation,
    Message,
)
from conversations.prefetch import remember_related
from conversations.sentiment import running_average, score_text
from conversations.services.attachments import attachment_add, check_attachment_size, clean_filename
from conversations.services.checks import (
    MAX_BODY_LENGTH,
    require_choice,
)
from conversations.services.conversations import change_status_locked, lock_conversation
from conversations.services.deliveries import delivery_queue
from conversations.services.mentions import notify_mentions
from conversations.writes import insert_row, update_row

User = get_user_model()


def _clean_buttons(buttons: Any) -> list[dict]:
    if not buttons:
        return []
    if not isinstance(buttons, list) or not all(
        isinstance(b, dict) and isinstance(b.get("label"), str) and b["label"].strip() for b in buttons
    ):
        raise ValidationError({"buttons": _('Buttons are a list of {"label", "url"?} objects.')})
    return [{"label": b["label"], **({"url": str(b["url"])} if b.get("url") else {})} for b in buttons]


def message_create(
    *,
    conversation: Conversation,
    body: str,
    sender_type: str,
    author=None,
    internal: bool = False,
    buttons: list | None = None,
    depth: int = 0,
    files: list | None = None,
    deliver: bool | None = None,
) -> Message:
    """Post a message; keep sentiment, response timestamps and status in step; record `message.created`.

    A customer message reopens a pending or resolved conversation; the first public agent reply opens a new one
    and stamps the first response (what agents expect from Zendesk or Chatwoot). `files` (uploaded files, or
    `(name, bytes, content_type)` tuples) are stored in the same transaction; one over the size limit refuses the
    whole message. On an inbox's conversation a public team message gets its queued `Delivery` (docs/channels.md);
    `deliver=False` stores without sending (an imported auto-reply or bounce), None decides by the sender type.
    """
    require_choice(sender_type, SenderType, "sender_type")
    if body is not None and not isinstance(body, str):
        raise ValidationError({"body": _("A message body is text.")})
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("A message needs a body.")})
    if len(body) > MAX_BODY_LENGTH:
        raise ValidationError(
            {"body": _("A message has at most %(MAX_BODY_LENGTH)s characters.") % {"MAX_BODY_LENGTH": MAX_BODY_LENGTH}}
        )
    is_customer = sender_type == SenderType.CUSTOMER
    if is_customer and internal:
        raise ValidationError({"internal": _("Customers cannot write internal notes.")})
    message = Message(
        conversation=conversation,
        sender_type=sender_type,
        author=author,
        body=body,
        internal=bool(internal),
        buttons=_clean_buttons(buttons),
    )
    uploads = _checked_files(files)
    # Scored before the transaction: on SQLite the write lock is held from BEGIN to COMMIT, and the score (~0.1 ms of
    # CPU) depends on the text alone.
    score = score_text(body) if is_customer else None
    with transaction.atomic():
        conversation = _follow_merges(lock_conversation(conversation))
        message.conversation = conversation
        sentiment_before = conversation.sentiment
        now = clock.now()
        moved = ["updated_at"]  # the counters this message moves: only those are written (see `update_row` below)
        if is_customer:
            message.sentiment = score
            if message.sentiment is not None:  # None: no [sentiment] extra (conversations/sentiment.py)
                conversation.sentiment = running_average(
                    conversation.sentiment, conversation.customer_message_count, message.sentiment
                )
                moved.append("sentiment")
            conversation.customer_message_count += 1
            conversation.last_customer_message_at = now
            moved += ["customer_message_count", "last_customer_message_at"]
        elif not internal:
            conversation.last_agent_message_at = now
            moved.append("last_agent_message_at")
            if sender_type == SenderType.AGENT:
                conversation.last_agent_reply_at = now  # what the queue's hand-backs look at (docs/routing.md)
                moved.append("last_agent_reply_at")
            if sender_type == SenderType.AGENT and conversation.first_response_at is None:
                conversation.first_response_at = now
                moved.append("first_response_at")
        insert_row(message)  # message.save(), the INSERT built once per process
        attachments = [
            attachment_add(message=message, filename=name, content=content, content_type=content_type)
            for name, content, content_type in uploads
        ]
        delivery = delivery_queue(message=message, conversation=conversation, deliver=deliver)
        _remember_channel_rows(message, attachments, delivery)
        # save(update_fields=...), built once per process per set of fields. Only the moved ones: SQLite rewrites an
        # index entry for every indexed column a SET names, changed or not (first_response_at is in conv_report).
        update_row(conversation, moved)
        record_event(
            type=EventType.MESSAGE_CREATED,
            conversation=conversation,
            payload=payloads.message_created(
                message=message,
                channel=conversation.channel,
                sentiment_before=sentiment_before,
                sentiment_after=conversation.sentiment,
            ),
            depth=depth,
        )
        _follow_message_with_status(conversation, sender_type, message.internal, depth)
        if message.internal and author is not None:
            notify_mentions(message=message, author=author)
    return message


MAX_MERGE_HOPS = 10


def _follow_merges(conversation: Conversation) -> Conversation:
    """A message to a merged conversation lands in the one it was merged into (docs/agent_day.md), locked in its turn."""
    for _hop in range(MAX_MERGE_HOPS):
        if conversation.merged_into_id is None:
            return conversation
        conversation = lock_conversation(Conversation(pk=conversation.merged_into_id))
    return conversation


def _remember_channel_rows(message: Message, attachments: list, delivery) -> None:
    """A new message's files, delivery and (absent) mail headers are known: the API response reads no row back."""
    remember_related(message, "attachments", attachments)
    Message.delivery.related.set_cached_value(message, delivery)
    Message.email.related.set_cached_value(message, None)


def _checked_files(files: list | None) -> list[tuple[str, bytes, str]]:
    """The files as (name, content, content_type), every size checked before anything is written (a 400 naming the
    file, nothing saved)."""
    checked = []
    for item in files or []:
        if isinstance(item, tuple):
            name, content, content_type = item
        else:
            name, content_type = getattr(item, "name", ""), getattr(item, "content_type", "") or ""
            check_attachment_size(filename=clean_filename(name), size=getattr(item, "size", 0) or 0)
            content = item.read()
        check_attachment_size(filename=clean_filename(name), size=len(content))
        checked.append((name, content, content_type))
    return checked


def _follow_message_with_status(conversation: Conversation, sender_type: str, internal: bool, depth: int) -> None:
    """Runs inside `message_create`'s transaction, which already holds the conversation's row lock."""
    if sender_type == SenderType.CUSTOMER and conversation.status in (Status.PENDING, Status.RESOLVED):
        change_status_locked(conversation, Status.OPEN, None, depth, wake_reason="customer_message")
    elif sender_type == SenderType.AGENT and not internal and conversation.status == Status.NEW:
        change_status_locked(conversation, Status.OPEN, None, depth)

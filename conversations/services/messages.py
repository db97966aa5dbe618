"""Messages: post one, keeping sentiment, response timestamps and status in step."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from conversations import clock
from conversations.choices import (
    EventType,
    SenderType,
    Status,
)
from conversations import payloads
from conversations.events import record_event
from conversations.models import (
    Conversation,
    Message,
)
from conversations.sentiment import running_average, score_text

User = get_user_model()
from conversations.services.checks import (
    MAX_BODY_LENGTH,
    require_choice,
)
from conversations.services.conversations import change_status_locked, lock_conversation


def _clean_buttons(buttons: Any) -> list[dict]:
    if not buttons:
        return []
    if not isinstance(buttons, list) or not all(
        isinstance(b, dict) and isinstance(b.get("label"), str) and b["label"].strip() for b in buttons
    ):
        raise ValidationError({"buttons": 'Buttons are a list of {"label", "url"?} objects.'})
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
) -> Message:
    """Post a message; keep sentiment, response timestamps and status in step; record `message.created`.

    A customer message reopens a pending or resolved conversation; the first public agent reply opens a new one
    and stamps the first response (what agents expect from Zendesk or Chatwoot).
    """
    require_choice(sender_type, SenderType, "sender_type")
    if body is not None and not isinstance(body, str):
        raise ValidationError({"body": "A message body is text."})
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "A message needs a body."})
    if len(body) > MAX_BODY_LENGTH:
        raise ValidationError({"body": f"A message has at most {MAX_BODY_LENGTH} characters."})
    is_customer = sender_type == SenderType.CUSTOMER
    if is_customer and internal:
        raise ValidationError({"internal": "Customers cannot write internal notes."})
    message = Message(conversation=conversation, sender_type=sender_type, author=author, body=body,
                      internal=bool(internal), buttons=_clean_buttons(buttons))
    with transaction.atomic():
        lock_conversation(conversation)
        sentiment_before = conversation.sentiment
        now = clock.now()
        if is_customer:
            message.sentiment = score_text(body)
            conversation.sentiment = running_average(
                conversation.sentiment, conversation.customer_message_count, message.sentiment
            )
            conversation.customer_message_count += 1
            conversation.last_customer_message_at = now
        elif not internal:
            conversation.last_agent_message_at = now
            if sender_type == SenderType.AGENT:
                conversation.last_agent_reply_at = now  # what the queue's hand-backs look at (SPEC §14)
            if sender_type == SenderType.AGENT and conversation.first_response_at is None:
                conversation.first_response_at = now
        message.save()
        conversation.save(update_fields=[
            "sentiment", "customer_message_count", "last_customer_message_at", "last_agent_message_at",
            "first_response_at", "last_agent_reply_at", "updated_at",
        ])
        record_event(
            type=EventType.MESSAGE_CREATED,
            conversation=conversation,
            payload=payloads.message_created(message=message, channel=conversation.channel,
                                             sentiment_before=sentiment_before,
                                             sentiment_after=conversation.sentiment),
            depth=depth,
        )
        _follow_message_with_status(conversation, sender_type, message.internal, depth)
    return message


def _follow_message_with_status(conversation: Conversation, sender_type: str, internal: bool, depth: int) -> None:
    """Runs inside `message_create`'s transaction, which already holds the conversation's row lock."""
    if sender_type == SenderType.CUSTOMER and conversation.status in (Status.PENDING, Status.RESOLVED):
        change_status_locked(conversation, Status.OPEN, None, depth)
    elif sender_type == SenderType.AGENT and not internal and conversation.status == Status.NEW:
        change_status_locked(conversation, Status.OPEN, None, depth)

"""Mentions (docs/agent_day.md): `@username` in an internal note notifies that agent once, by email and in admin's
notification list. Called by `message_create` inside its transaction; the mail leaves after commit."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction

from conversations import clock
from conversations.models import Message, Notification

logger = logging.getLogger(__name__)
User = get_user_model()
# A username as Django allows it (letters, digits, @.+-_), not glued to a preceding word (an email address).
MENTION = re.compile(r"(?<![\w.+-])@([\w.+-]+)")
MAX_MENTIONS = 20


def mentioned_usernames(text: str) -> list[str]:
    """The usernames mentioned in a text, in order, each once (a trailing full stop is punctuation)."""
    names = [name.rstrip(".") for name in MENTION.findall(text or "")]
    return list(dict.fromkeys(name for name in names if name))[:MAX_MENTIONS]


def notify_mentions(*, message: Message, author) -> list[Notification]:
    """Notify every active staff user mentioned in the note, except its author; once per note and person."""
    names = mentioned_usernames(message.body)
    if not names:
        return []
    people = User.objects.filter(username__in=names, is_active=True, is_staff=True).exclude(pk=author.pk)
    conversation = message.conversation
    text = f"{author.get_username()} mentioned you on #{conversation.pk} {conversation.subject}".strip()[:500]
    created = [
        Notification.objects.get_or_create(
            user=person,
            message=message,
            defaults={"kind": "mention", "conversation": conversation, "actor": author, "text": text},
        )
        for person in people
    ]
    fresh = [notification for notification, is_new in created if is_new]
    for notification in fresh:
        transaction.on_commit(lambda n=notification: _mail(n, message.body))
    return fresh


def _mail(notification: Notification, body: str) -> None:
    """The email of a mention; a mail failure is logged (the admin list still has it), never raised."""
    recipient = notification.user.email
    if not recipient:
        return
    try:
        send_mail(
            subject=notification.text,
            message=f"{notification.text}:\n\n{body}",
            from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
            recipient_list=[recipient],
        )
    except Exception:
        logger.exception("Could not mail mention notification %s", notification.pk)


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when `ids` is None); returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=clock.now())

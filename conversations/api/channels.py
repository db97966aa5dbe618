"""The channel side of a message as the API reads it (docs/channels.md): its mail headers, its files and its delivery.

Every function reads the message's own caches (`select_related("email", "delivery")`,
`prefetch_related("attachments")`, or what `message_create` primed), never one query per message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from rest_framework import serializers

from conversations.models import Message

# What a message list loads up front for the three channel fields.
MESSAGE_SELECT = ("email", "delivery")
MESSAGE_PREFETCH = ("attachments",)


def reverse_one(message: Message, name: str) -> Any:
    """The row behind a reverse one-to-one (`email`, `delivery`), or None when there is none."""
    try:
        return getattr(message, name)
    except ObjectDoesNotExist:
        return None


def email_data(message: Message) -> dict | None:
    headers = reverse_one(message, "email")
    if headers is None:
        return None
    return {
        "message_id": headers.message_id_header,
        "in_reply_to": headers.in_reply_to,
        "from": headers.from_address,
        "from_name": headers.from_name,
        "to": headers.to,
        "cc": headers.cc,
        "subject": headers.subject,
        "direction": headers.direction,
    }


def attachment_url(attachment_id: int, request=None) -> str:
    path = reverse("attachment-download", args=[attachment_id])
    return request.build_absolute_uri(path) if request is not None else path


def attachments_data(message: Message, request=None) -> list[dict]:
    return [
        {
            "id": item.pk,
            "filename": item.filename,
            "content_type": item.content_type,
            "size": item.size,
            "url": attachment_url(item.pk, request),
        }
        for item in message.attachments.all()
    ]


def delivery_data(message: Message) -> dict | None:
    delivery = reverse_one(message, "delivery")
    if delivery is None:
        return None
    return {
        "status": delivery.status,
        "attempts": delivery.attempts,
        "error": delivery.error,
        "sent_at": serializers.DateTimeField().to_representation(delivery.sent_at) if delivery.sent_at else None,
    }

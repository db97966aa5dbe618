"""Export (GDPR Art. 15 and 20): everything held about a contact as one JSON document, streamed.

The document is written piece by piece (one conversation at a time, rows read with `iterator`), so a contact with
years of history never sits in memory at once. Files travel as links to the API's download URLs, which check
who may read them. Internal notes are the team's own notes and stay out; everything the contact wrote or was sent
is in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.urls import NoReverseMatch, reverse

from conversations.models import Contact, Conversation, Message

_encoder = DjangoJSONEncoder(ensure_ascii=False)


def _json(value: Any) -> str:
    return _encoder.encode(value)


def _file_url(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _contact_data(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "segment": contact.segment,
        "attributes": contact.attributes,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def _message_data(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message.pk,
        "sender_type": message.sender_type,
        "body": message.body,
        "created_at": message.created_at,
    }
    email = getattr(message, "email", None)
    if email is not None:
        data["email"] = {"from": email.from_address, "to": email.to, "cc": email.cc, "subject": email.subject}
    data["attachments"] = [
        {
            "id": attachment.pk,
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "url": _file_url("attachment-download", attachment_id=attachment.pk),
        }
        for attachment in message.attachments.all()
    ]
    return data


def _conversation_data(conversation: Conversation) -> dict[str, Any]:
    messages = (
        conversation.messages.filter(internal=False)
        .select_related("email")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    return {
        "id": conversation.pk,
        "channel": conversation.channel,
        "subject": conversation.subject,
        "status": conversation.status,
        "created_at": conversation.created_at,
        "resolved_at": conversation.resolved_at,
        "messages": [_message_data(message) for message in messages],
        "tickets": list(conversation.tickets.values("title", "description", "status", "created_at")),
        "surveys": list(conversation.surveys.values("question", "score", "comment", "sent_at", "answered_at")),
        "recordings": [
            {
                "id": recording.pk,
                "content_type": recording.content_type,
                "created_at": recording.created_at,
                "transcripts": [transcript.text for transcript in recording.transcripts.all()],
            }
            for recording in conversation.recordings.prefetch_related("transcripts")
        ],
    }


def contact_export(contact: Contact) -> Iterator[str]:
    """The pieces of `{"contact": {...}, "conversations": [...]}`, in order."""
    yield '{"contact": ' + _json(_contact_data(contact)) + ', "conversations": ['
    conversations = Conversation.objects.filter(contact=contact).order_by("created_at", "id")
    for number, conversation in enumerate(conversations.iterator(chunk_size=50)):
        yield ("" if number == 0 else ", ") + _json(_conversation_data(conversation))
    yield "]}"


def contact_export_document(contact: Contact) -> dict[str, Any]:
    """The whole export as one value (tests, small exports)."""
    return json.loads("".join(contact_export(contact)))

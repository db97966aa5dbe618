"""Which conversation an inbound mail joins (docs/channels.md), as a small table tried in order (Chatwoot's mailbox routing):
1. `In-Reply-To` / `References` name a Message-ID of a message of this inbox's conversations (received or sent);
2. a `[#<id>]` tag in the subject names a conversation of this inbox;
3. none: the caller opens a new conversation.
A conversation merged into another is followed to the one it lives on in."""

from __future__ import annotations

import re

from conversations.models import Conversation, EmailHeaders, Inbox
from inboxes.parsing import ParsedMail

_SUBJECT_TAG = re.compile(r"\[#(\d{1,18})\]")
_MAX_MERGE_HOPS = 10


def find_thread(*, inbox: Inbox, mail: ParsedMail) -> Conversation | None:
    """The conversation the mail continues, or None for a new one."""
    conversation = _by_headers(inbox, mail) or _by_subject_tag(inbox, mail.subject)
    return _follow_merges(conversation) if conversation is not None else None


def _id_forms(message_ids: list[str]) -> list[str]:
    """Each id with and without its angle brackets (a sender may have stored either)."""
    forms = []
    for item in message_ids:
        bare = item.strip("<>")
        forms += [f"<{bare}>", bare]
    return forms


def _by_headers(inbox: Inbox, mail: ParsedMail) -> Conversation | None:
    wanted = mail.thread_ids()
    if not wanted:
        return None
    rows = EmailHeaders.objects.filter(
        message__conversation__inbox=inbox, message_id_header__in=_id_forms(wanted)
    ).values_list("message_id_header", "message__conversation_id")
    found = {header.strip("<>"): conversation_id for header, conversation_id in rows}
    for item in wanted:  # the most direct parent first
        if item.strip("<>") in found:
            return Conversation.objects.filter(pk=found[item.strip("<>")]).first()
    return None


def _by_subject_tag(inbox: Inbox, subject: str) -> Conversation | None:
    for tag in _SUBJECT_TAG.findall(subject or ""):
        conversation = Conversation.objects.filter(pk=int(tag), inbox=inbox).first()
        if conversation is not None:
            return conversation
    return None


def _follow_merges(conversation: Conversation) -> Conversation:
    """The conversation a merged one now lives in (`merged_into`, when the project has merging)."""
    for _ in range(_MAX_MERGE_HOPS):
        target_id = getattr(conversation, "merged_into_id", None)
        if not target_id or target_id == conversation.pk:
            break
        conversation = Conversation.objects.get(pk=target_id)
    return conversation

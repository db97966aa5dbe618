"""Merge and links (docs/agent_day.md). A merge moves the source's messages (notes and their attachments follow by foreign
key) and tags into the target, closes the source with `merged_into` and records `conversation.merged` on both; the
SLA app ends the source's targets as on any close (it sees the `closed` status change). Links relate two
conversations as parent, child or related; a parent is resolved only once its children are (see
`conversation_change_status`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext_lazy as _

from conversations import payloads
from conversations.choices import EventType, Status
from conversations.events import record_event
from conversations.models import Conversation, ConversationLink, LinkKind, Message
from conversations.services.conversations import change_status_locked, conversation_add_tags, lock_conversation

INVERSE_KIND = {LinkKind.PARENT: LinkKind.CHILD, LinkKind.CHILD: LinkKind.PARENT, LinkKind.RELATED: LinkKind.RELATED}


def _check_merge(source: Conversation, target: Conversation) -> None:
    if source.pk == target.pk:
        raise ValidationError({"into": _("A conversation cannot be merged into itself.")})
    if source.merged_into_id is not None:
        raise ValidationError(
            {
                "into": _("#%(source_pk)s is already merged into #%(source_merged_into_id)s.")
                % {"source_pk": source.pk, "source_merged_into_id": source.merged_into_id}
            }
        )
    if target.merged_into_id is not None:
        raise ValidationError(
            {
                "into": _(
                    "#%(target_pk)s was merged into #%(target_merged_into_id)s; merge into #%(target_merged_into_id)s instead."
                )
                % {"target_pk": target.pk, "target_merged_into_id": target.merged_into_id}
            }
        )


def _lock_pair(source: Conversation, target: Conversation) -> None:
    """Lock both rows in id order, so two merges of the same pair cannot deadlock."""
    for conversation in sorted((source, target), key=lambda c: c.pk):
        lock_conversation(conversation)


def _move_messages(source: Conversation, target: Conversation) -> int:
    """Move the messages (they keep `created_at`, so the thread stays in time order) and the customer counters."""
    moved = Message.objects.filter(conversation=source).update(conversation=target)
    count = source.customer_message_count
    if count and source.sentiment is not None:
        if target.sentiment is None or not target.customer_message_count:
            target.sentiment = source.sentiment
        else:
            total = target.customer_message_count + count
            target.sentiment = (target.sentiment * target.customer_message_count + source.sentiment * count) / total
    target.customer_message_count += count
    latest = Message.objects.filter(conversation=target, sender_type="customer").aggregate(at=Max("created_at"))["at"]
    target.last_customer_message_at = latest or target.last_customer_message_at
    target.save(update_fields=["sentiment", "customer_message_count", "last_customer_message_at", "updated_at"])
    return moved


def conversation_merge(*, source: Conversation, target: Conversation, actor=None, depth: int = 0) -> Conversation:
    """Merge `source` into `target` in one transaction; returns the target. Refuses self, merged and cyclic merges."""
    with transaction.atomic():
        _lock_pair(source, target)
        _check_merge(source, target)
        tags = list(source.tags.values_list("name", flat=True))
        moved = _move_messages(source, target)
        if tags:
            conversation_add_tags(conversation=target, tags=tags, depth=depth)
        # Conversations merged into the source earlier follow it, so a message to them lands in the target too.
        Conversation.objects.filter(merged_into=source).update(merged_into=target)
        source.merged_into = target
        source.save(update_fields=["merged_into", "updated_at"])
        change_status_locked(source, Status.CLOSED, actor, depth)
        payload = payloads.merged(source=source, target=target, messages=moved, tags=tags, actor=actor)
        record_event(type=EventType.MERGED, conversation=source, payload=payload, depth=depth)
        record_event(type=EventType.MERGED, conversation=target, payload=payload, depth=depth)
    return target


def _existing_link(conversation: Conversation, other: Conversation) -> ConversationLink | None:
    return ConversationLink.objects.filter(
        Q(conversation=conversation, other=other) | Q(conversation=other, other=conversation)
    ).first()


def conversation_link(
    *, conversation: Conversation, other: Conversation, kind: str, actor=None, depth: int = 0
) -> ConversationLink:
    """Link `other` to `conversation` as its `kind` (parent, child or related); record `conversation.linked`."""
    if kind not in LinkKind.values:
        raise ValidationError({"kind": _("Use one of: %(value0)s.") % {"value0": ", ".join(LinkKind.values)}})
    if conversation.pk == other.pk:
        raise ValidationError({"conversation": _("A conversation cannot be linked to itself.")})
    with transaction.atomic():
        _lock_pair(conversation, other)
        if _existing_link(conversation, other):
            raise ValidationError(
                {
                    "conversation": _("#%(other_pk)s is already linked to #%(conversation_pk)s.")
                    % {"other_pk": other.pk, "conversation_pk": conversation.pk}
                }
            )
        link = ConversationLink.objects.create(conversation=conversation, other=other, kind=kind, created_by=actor)
        record_event(
            type=EventType.LINKED,
            conversation=conversation,
            payload=payloads.linked(other=other, kind=kind, actor=actor),
            depth=depth,
        )
        record_event(
            type=EventType.LINKED,
            conversation=other,
            payload=payloads.linked(other=conversation, kind=INVERSE_KIND[kind], actor=actor),
            depth=depth,
        )
    return link


def conversation_unlink(*, conversation: Conversation, other: Conversation, actor=None, depth: int = 0) -> None:
    """Remove the link between the two conversations; record `conversation.unlinked` on both."""
    with transaction.atomic():
        link = _existing_link(conversation, other)
        if link is None:
            raise ValidationError(
                {
                    "conversation": _("#%(other_pk)s is not linked to #%(conversation_pk)s.")
                    % {"other_pk": other.pk, "conversation_pk": conversation.pk}
                }
            )
        kind = link.kind if link.conversation_id == conversation.pk else INVERSE_KIND[link.kind]
        link.delete()
        record_event(
            type=EventType.UNLINKED,
            conversation=conversation,
            payload=payloads.linked(other=other, kind=kind, actor=actor),
            depth=depth,
        )
        record_event(
            type=EventType.UNLINKED,
            conversation=other,
            payload=payloads.linked(other=conversation, kind=INVERSE_KIND[kind], actor=actor),
            depth=depth,
        )


def links_of(conversation: Conversation) -> list[dict]:
    """Every link of the conversation, from its side: `{"conversation", "kind", "subject", "status"}`."""
    rows = (
        ConversationLink.objects.filter(Q(conversation=conversation) | Q(other=conversation))
        .select_related("conversation", "other")
        .order_by("created_at", "id")
    )
    result = []
    for link in rows:
        mine = link.conversation_id == conversation.pk
        other = link.other if mine else link.conversation
        kind = link.kind if mine else INVERSE_KIND[link.kind]
        result.append(
            {
                "conversation": other.pk,
                "kind": str(kind),
                "subject": other.subject,
                "status": other.status,
                "created_at": link.created_at,
            }
        )
    return result

"""The row lock every conversation write takes first (the lowest module of the services: everything may import it)."""

from __future__ import annotations

from conversations.models import Conversation
from conversations.statements import Statement

# `Conversation.objects.select_for_update().select_related("contact").get(pk=...)`, built once per process
# (conversations.statements, rebuilt after a migration): every write to a conversation takes this lock, and building
# the query cost more than running it.
_LOCK = Statement(
    Conversation,
    lambda slot: Conversation.objects.select_for_update().select_related("contact").filter(pk=slot("pk", "id")),
    locks=True,
)

_FIELDS = tuple(field.attname for field in Conversation._meta.concrete_fields)


def lock_conversation(conversation: Conversation) -> Conversation:
    """Reload the conversation under a row lock so concurrent changes serialise (no lost updates).

    What `refresh_from_db(from_queryset=...)` does, through the same public parts (every concrete field set by its
    attname, which drops a cached relation whose key changed; `_state` marked as loaded), but with the lock's
    statement built once per process: `refresh_from_db` would build the query on every write."""
    found = _LOCK.instances(pk=conversation.pk)
    if not found:
        raise Conversation.DoesNotExist("Conversation matching query does not exist.")
    locked = found[0]
    for attname in _FIELDS:
        setattr(conversation, attname, getattr(locked, attname))
    conversation._state.adding, conversation._state.db = False, locked._state.db  # a `conversation_ref` is now loaded
    # Keep the contact loaded with the lock: the event row reads it, so no second query.
    Conversation.contact.field.set_cached_value(conversation, locked.contact)
    return conversation

"""`lock_conversation` reloads the conversation under its row lock the way `refresh_from_db` would: every field as the
database holds it, a cached relation whose key changed dropped."""

from django.db import transaction

from conversations import services
from conversations.models import Conversation
from conversations.services.locks import lock_conversation


def test_the_lock_reloads_every_field_and_drops_a_stale_relation(conversation, team):
    other = services.team_create(name="Billing")
    conversation.team = team  # a cached relation...
    assert conversation.team == team
    Conversation.objects.filter(pk=conversation.pk).update(team=other, subject="Changed elsewhere", priority="high")
    with transaction.atomic():
        locked = lock_conversation(conversation)
    assert locked is conversation
    assert (conversation.subject, conversation.priority, conversation.team_id) == (
        "Changed elsewhere",
        "high",
        other.pk,
    )
    assert conversation.team == other  # ...whose key changed elsewhere is not served stale
    assert not conversation._state.adding

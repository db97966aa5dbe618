"""The create path writes less while it holds the write lock (issue 24, item 4): a message's UPDATE names only the
counters it moved, and the single-column indexes a composite index already leads with are gone."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.models import Conversation, Message


def _update_of_conversation(captured) -> str:
    """The SET clause of the counters' UPDATE (the first one; a status change may follow it)."""
    updates = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith('UPDATE "conversations_conversation"')
    ]
    assert updates
    return updates[0].split(" WHERE ")[0]


@pytest.mark.django_db
def test_a_customer_message_updates_only_the_customer_counters(conversation):
    with CaptureQueriesContext(connection) as captured:
        services.message_create(
            conversation=services.conversation_ref(conversation.pk), body="My invoice is wrong", sender_type="customer"
        )
    update = _update_of_conversation(captured)
    assert '"customer_message_count"' in update and '"last_customer_message_at"' in update
    assert '"updated_at"' in update
    for untouched in ("first_response_at", "last_agent_message_at", "last_agent_reply_at"):
        assert f'"{untouched}"' not in update, untouched
    stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.customer_message_count == 1 and stored.last_customer_message_at is not None
    assert stored.first_response_at is None and stored.last_agent_message_at is None


@pytest.mark.django_db
def test_the_first_agent_reply_stamps_the_first_response_once(conversation, agent):
    with CaptureQueriesContext(connection) as captured:
        first = services.message_create(conversation=conversation, body="On it", sender_type="agent", author=agent)
    assert '"first_response_at"' in _update_of_conversation(captured)
    with CaptureQueriesContext(connection) as captured:
        services.message_create(conversation=conversation, body="Done", sender_type="agent", author=agent)
    assert '"first_response_at"' not in _update_of_conversation(captured)  # already stamped: not rewritten
    stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.first_response_at is not None and stored.first_response_at <= first.created_at
    assert stored.last_agent_reply_at is not None and stored.last_agent_message_at is not None
    assert stored.customer_message_count == 0


@pytest.mark.django_db
def test_an_internal_note_moves_no_counter(conversation, agent):
    with CaptureQueriesContext(connection) as captured:
        services.message_create(
            conversation=conversation, body="Check the ledger", sender_type="agent", author=agent, internal=True
        )
    update = _update_of_conversation(captured)
    assert '"updated_at"' in update and '"last_agent_message_at"' not in update
    assert Conversation.objects.get(pk=conversation.pk).last_agent_message_at is None


def _single_column_indexes(model) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        columns[0]
        for columns in (c["columns"] for c in constraints.values() if c["index"] and not c["unique"])
        if len(columns) == 1
    }


@pytest.mark.django_db
def test_no_single_column_index_repeats_the_lead_of_a_composite_one():
    """Every column left without its own index still leads a composite index, so its lookups stay indexed."""
    for model, columns in (
        (Conversation, {"contact_id", "assignee_id", "team_id", "created_at"}),
        (Message, {"conversation_id"}),
    ):
        assert not columns & _single_column_indexes(model)
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
        leads = {c["columns"][0] for c in constraints.values() if c["index"] and len(c["columns"]) > 1}
        assert columns <= leads, columns - leads


def test_a_conversation_has_no_unique_field_but_its_key():
    """`conversation_open` skips `validate_unique` because of this; a unique field added later must bring it back."""
    meta = Conversation._meta
    assert [field.name for field in meta.concrete_fields if field.unique] == [meta.pk.name]
    assert not meta.unique_together and not meta.total_unique_constraints
    assert not any(f.unique_for_date or f.unique_for_month or f.unique_for_year for f in meta.concrete_fields)


@pytest.mark.django_db
def test_opening_still_refuses_what_full_clean_refused(contact):
    with pytest.raises(ValidationError) as refused:
        services.conversation_open(contact=contact, channel="email", subject="x" * 301)
    assert "subject" in refused.value.message_dict
    assert not Conversation.objects.exists()

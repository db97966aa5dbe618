"""Statements compiled once per process (conversations.compiled.CompiledGet) read the same rows as the querysets
they are compiled from, with the same instances and errors."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.compiled import CompiledGet
from conversations.models import Contact, Conversation
from conversations.services.conversations import lock_conversation
from sla.models import SlaPolicy
from sla.policies import _ACTIVE_POLICIES
from tests.support.sla import make_policy

pytestmark = pytest.mark.django_db


def values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_the_lock_reads_the_row_and_its_contact_as_the_orm_does(conversation, agent):
    services.message_create(conversation=conversation, body="Hello, invoice wrong", sender_type="customer")
    services.conversation_assign(conversation=conversation, assignee=agent)
    expected = Conversation.objects.select_related("contact").get(pk=conversation.pk)
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        locked = lock_conversation(Conversation(pk=conversation.pk))
        contact = locked.contact
    assert len(captured.captured_queries) == 1  # the contact came with the lock
    assert values(locked) == values(expected) and values(contact) == values(expected.contact)
    assert not locked._state.adding and locked._state.db == "default"


def test_a_missing_or_impossible_id_is_does_not_exist_and_a_bad_one_a_value_error(db):
    reader = CompiledGet(Contact)
    for pk in (987654, 2**63, -(2**63) - 1):
        with pytest.raises(Contact.DoesNotExist):
            reader.get(pk)
    with pytest.raises(ValueError):
        reader.get("nope")


def test_the_contact_of_a_new_conversation_is_read_with_the_compiled_statement(contact, agent_client):
    response = agent_client.post("/api/conversations/", {"contact": contact.pk, "channel": "email"}, format="json")
    assert response.status_code == 201 and response.json()["contact"] == contact.pk
    missing = agent_client.post("/api/conversations/", {"contact": 987654, "channel": "email"}, format="json")
    assert missing.status_code == 400 and "contact" in missing.json()
    assert model_to_dict(CompiledGet(Contact).get(contact.pk)) == model_to_dict(Contact.objects.get(pk=contact.pk))


def test_the_active_policies_are_read_in_position_order_with_their_calendars(db):
    later, first = make_policy("Later", position=20), make_policy("First", position=5)
    make_policy("Off", position=1, active=False)
    policies = _ACTIVE_POLICIES.all()
    assert [policy.pk for policy in policies] == [first.pk, later.pk]
    assert [values(p) for p in policies] == [values(p) for p in SlaPolicy.objects.filter(active=True)]
    assert policies[0].business_hours is None

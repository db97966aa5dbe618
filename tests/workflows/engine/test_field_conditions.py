"""Conversation fields in conditions (docs/managers.md): `conversation.fields.<key>` is a known path once the field is
defined, evaluated over the run context, and compiled to a database query for `schedule` matching."""

from conversations import services
from conversations.models import Conversation, Event
from workflows.engine import conditions
from workflows.engine.context import build_context


def test_a_field_path_is_known_only_when_defined(db):
    leaf = {"field": "conversation.fields.order_id", "op": "is_set"}
    assert conditions.validate(leaf) == [("field", 'Unknown field "conversation.fields.order_id".')]
    services.conversation_field_create(key="order_id", label="Order number")
    assert conditions.validate(leaf) == []
    assert conditions.validate(leaf, query_only=True) == []


def test_a_field_condition_evaluates_over_the_context_and_as_a_query(contact):
    services.conversation_field_create(key="items", label="Items", type="number")
    few = services.conversation_open(contact=contact, channel="email", subject="few")
    many = services.conversation_open(contact=contact, channel="email", subject="many")
    services.conversation_open(contact=contact, channel="email", subject="none")
    services.conversation_set_fields(conversation=few, fields={"items": 2})
    services.conversation_set_fields(conversation=many, fields={"items": 12})
    tree = {"all": [{"field": "conversation.fields.items", "op": "gt", "value": 10}]}
    event = Event.objects.filter(conversation=many, type="conversation.fields_changed").get()
    assert build_context(event)["conversation"]["fields"] == {"items": 12}
    assert conditions.evaluate(tree, build_context(event)) is True
    assert list(Conversation.objects.filter(conditions.to_q(tree))) == [many]
    is_set = {"field": "conversation.fields.items", "op": "is_set"}
    assert set(Conversation.objects.filter(conditions.to_q(is_set))) == {few, many}

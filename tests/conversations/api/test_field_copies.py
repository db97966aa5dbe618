"""The create serializers' per-request field copies (conversations.api.fieldcopies): each serializer gets fields of
its own, with the declared arguments, and validation answers as before."""

from __future__ import annotations

import pytest

from conversations.api.serializers import ConversationCreateSerializer, MessageCreateSerializer


@pytest.mark.parametrize("serializer_class", [ConversationCreateSerializer, MessageCreateSerializer])
def test_each_serializer_gets_its_own_bound_fields(serializer_class):
    first, second = serializer_class().fields, serializer_class().fields
    declared = serializer_class._declared_fields
    assert list(first) == list(second) == list(declared)
    for name in declared:
        one, other = first[name], second[name]
        assert one is not other and one is not declared[name]
        assert one.parent is not other.parent and declared[name].parent is None
        assert one.field_name == name and declared[name].field_name is None
        assert (one.required, one.allow_null, one.default) == (
            declared[name].required,
            declared[name].allow_null,
            declared[name].default,
        )
        # the containers a field may change after construction are its own
        assert one.validators is not other.validators
        assert one.error_messages is not other.error_messages and one.error_messages == other.error_messages
        assert one.style is not other.style


def test_a_validator_added_to_one_copy_stays_there():
    first, second = ConversationCreateSerializer().fields, ConversationCreateSerializer().fields
    before = len(second["subject"].validators)
    first["subject"].validators.append(lambda value: None)
    assert len(second["subject"].validators) == before
    assert len(ConversationCreateSerializer().fields["subject"].validators) == before


@pytest.mark.django_db
def test_create_validation_still_answers_per_field(contact):
    serializer = ConversationCreateSerializer(
        data={"contact": contact.pk, "channel": "fax", "subject": "x" * 301, "priority": "now"}
    )
    assert not serializer.is_valid()
    assert set(serializer.errors) == {"channel", "subject", "priority"}
    assert "300" in str(serializer.errors["subject"][0])
    good = ConversationCreateSerializer(data={"contact": contact.pk, "channel": "email", "subject": "Hello"})
    assert good.is_valid(), good.errors
    assert good.validated_data["contact"] == contact and good.validated_data["priority"] == "normal"

"""The conversation fields API (docs/managers.md): `/api/conversation-fields/` — managers define fields, agents read
them.

Thin as the other views: the serializer checks the request's shape, the services in
`conversations.services.fields` validate types and options, refuse changes to fields workflows use, and write.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from conversations import services
from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from conversations.api.serializers import JSONListField, StrictFieldsMixin
from conversations.api.views import READ_ACTIONS, IsSupportAgent
from conversations.choices import FieldType
from conversations.models import ConversationField


class ConversationFieldSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A field definition; `options` are the allowed values of a select field."""

    type = serializers.ChoiceField(choices=FieldType.choices, required=False, default=FieldType.TEXT)
    options = JSONListField(required=False, default=list, help_text=_("Select fields: the allowed values."))

    class Meta:
        model = ConversationField
        fields = ["id", "key", "label", "type", "options", "required_on_resolve", "position", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"key": {"validators": []}}  # uniqueness is the service's check (one message, one place)


class ConversationFieldViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Conversation field definitions, in position order. Changing the type of or deleting a field that an
    active workflow uses is a 400 naming the workflow."""

    queryset = ConversationField.objects.order_by("position", "id")
    serializer_class = ConversationFieldSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.action in READ_ACTIONS:
            return [IsSupportAgent()]
        return [IsSupportManager()]

    def perform_create(self, serializer) -> None:
        serializer.instance = services.conversation_field_create(**serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = services.conversation_field_update(field=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: ConversationField) -> None:
        services.conversation_field_delete(field=instance)

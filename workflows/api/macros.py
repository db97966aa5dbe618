"""API of macros (docs/managers.md "Macros"): managers create and change them, agents list them and apply one to a
conversation with `POST /api/conversations/{id}/apply-macro/`. Thin views over `workflows.engine.macros`; the answer of an
apply is the conversation as `GET /api/conversations/{id}/` shows it, after the steps.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from conversations.api.serializers import ConversationSerializer
from conversations.api.views import IsSupportAgent, conversation_queryset
from conversations.models import Conversation
from workflows.engine import macros
from workflows.models import Macro

READ_ACTIONS = ("list", "retrieve")


class MacroSerializer(serializers.ModelSerializer):
    """`{"name", "steps": [{"type", "config"}], "active"}`; steps are checked by `workflows.engine.macros`."""

    steps = serializers.JSONField(help_text='Internal steps: [{"type": "add_tag", "config": {"tags": ["vip"]}}]')
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Macro
        fields = ["id", "name", "steps", "active", "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}  # the service checks uniqueness (one message, one place)

    def create(self, validated_data: dict) -> Macro:
        return macros.macro_create(created_by=self.context["request"].user, **validated_data)

    def update(self, instance: Macro, validated_data: dict) -> Macro:
        values: dict[str, Any] = {key: validated_data.get(key, getattr(instance, key))
                                  for key in ("name", "steps", "active")}
        return macros.macro_update(macro=instance, **values)


class MacroViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Macros: every agent reads them (active ones first of all), support managers create, change and delete."""

    serializer_class = MacroSerializer
    queryset = Macro.objects.select_related("created_by").order_by("name", "id")

    def get_permissions(self):
        return [IsSupportAgent()] if self.action in READ_ACTIONS else [IsSupportManager()]


class ApplyMacroSerializer(serializers.Serializer):
    macro = serializers.PrimaryKeyRelatedField(queryset=Macro.objects.all(), help_text="The macro's id.")


class ApplyMacroView(HelpdeskAPIMixin, APIView):
    """Apply a macro to the conversation now, as the requesting agent; 200 with the conversation afterwards."""

    permission_classes = [IsSupportAgent]

    @extend_schema(request=ApplyMacroSerializer, responses=ConversationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        conversation = get_object_or_404(Conversation.objects.select_related("contact"), pk=pk)
        body = ApplyMacroSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        macros.macro_apply(macro=body.validated_data["macro"], conversation=conversation, agent=request.user)
        fresh = conversation_queryset().get(pk=conversation.pk)
        return Response(ConversationSerializer(fresh, context={"request": request}).data)

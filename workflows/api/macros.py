"""API of macros (docs/managers.md "Macros"): managers create and change them, agents list them and apply one to a
conversation with `POST /api/conversations/{id}/apply-macro/`. Thin views over `workflows.engine.macros`; the answer of an
apply is the conversation as `GET /api/conversations/{id}/` shows it, after the steps.

Macros v2 (docs/agent_day.md): `inputs` asked before applying, `POST /api/macros/{id}/apply/` on up to 100 conversations
(`{"results": [{"conversation", "ok", "error"}]}`), and personal macros: any agent creates one with
`"personal": true`; shared ones are for managers.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.base import HelpdeskAPIMixin
from conversations.api.serializers import ConversationSerializer
from conversations.api.views import IsSupportAgent, conversation_queryset
from conversations.models import Conversation
from workflows.api.personal import PersonalOrSharedMixin, owner_for
from workflows.engine import macros
from workflows.models import Macro

READ_ACTIONS = ("list", "retrieve")


class MacroSerializer(serializers.ModelSerializer):
    """`{"name", "steps": [{"type", "config"}], "inputs": [{"key", "label", "type"}], "active", "personal"}`; steps
    and inputs are checked by `workflows.engine.macros`."""

    steps = serializers.JSONField(help_text='Internal steps: [{"type": "add_tag", "config": {"tags": ["vip"]}}]')
    inputs = serializers.JSONField(
        required=False,
        help_text='Asked before applying: [{"key": "order", "label": '
        '"Order number", "type": "text"}]; {{ inputs.order }}.',
    )
    personal = serializers.BooleanField(
        required=False, default=False, help_text="Only its owner sees a personal macro; agents make only these."
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    owner = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The macro's owner when it is personal, else null.",
    )

    class Meta:
        model = Macro
        fields = [
            "id",
            "name",
            "steps",
            "inputs",
            "active",
            "personal",
            "owner",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "created_by", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}  # the service checks uniqueness (one message, one place)

    def to_representation(self, instance: Macro) -> dict:
        data = super().to_representation(instance)
        data["personal"] = instance.owner_id is not None
        return data

    def create(self, validated_data: dict) -> Macro:
        user = self.context["request"].user
        owner = owner_for(user, personal=validated_data.pop("personal", False), noun=gettext_lazy("macros"))
        return macros.macro_create(created_by=user, owner=owner, **validated_data)

    def update(self, instance: Macro, validated_data: dict) -> Macro:
        values: dict[str, Any] = {
            key: validated_data.get(key, getattr(instance, key)) for key in ("name", "steps", "active", "inputs")
        }
        return macros.macro_update(macro=instance, **values)


class BulkApplySerializer(serializers.Serializer):
    conversations = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=macros.MAX_BULK,
        help_text=f"Up to {macros.MAX_BULK} conversation ids.",
    )
    inputs = serializers.JSONField(required=False, help_text="Values of the macro's inputs, by key.")


class PreviewSerializer(serializers.Serializer):
    conversation = serializers.PrimaryKeyRelatedField(queryset=Conversation.objects.select_related("contact"))
    inputs = serializers.JSONField(required=False, help_text="Values of the macro's inputs, by key.")


class MacroViewSet(PersonalOrSharedMixin, HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Macros: agents read the shared ones and their own, and apply them; managers manage shared macros; anyone
    manages their own personal macros."""

    serializer_class = MacroSerializer
    shared_noun = gettext_lazy("macros")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Macro.objects.none()
        return macros.macros_visible_to(self.request.user).select_related("created_by", "owner").order_by("name", "id")

    @extend_schema(request=BulkApplySerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        """Apply the macro to each listed conversation, each on its own; 200 `{"results": [...]}`."""
        macro = self.get_object()
        body = BulkApplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = macros.macro_apply_bulk(
            macro=macro,
            conversation_ids=body.validated_data["conversations"],
            agent=request.user,
            inputs=body.validated_data.get("inputs"),
        )
        return Response({"results": results})

    @extend_schema(request=PreviewSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        """What applying the macro would do, changing nothing: 200 `{"reply", "changes": [...]}` (the workspace
        fills the reply box with `reply` for the agent to edit)."""
        macro = self.get_object()
        body = PreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            macros.macro_preview(
                macro=macro,
                conversation=body.validated_data["conversation"],
                agent=request.user,
                inputs=body.validated_data.get("inputs"),
            )
        )


class ApplyMacroSerializer(serializers.Serializer):
    macro = serializers.PrimaryKeyRelatedField(queryset=Macro.objects.all(), help_text="The macro's id.")
    inputs = serializers.JSONField(required=False, help_text="Values of the macro's inputs, by key.")

    def validate_macro(self, macro: Macro) -> Macro:
        if macro.owner_id is not None and macro.owner_id != self.context["request"].user.pk:
            raise serializers.ValidationError(f'Invalid pk "{macro.pk}" - object does not exist.')
        return macro


class ApplyMacroView(HelpdeskAPIMixin, APIView):
    """Apply a macro to the conversation now, as the requesting agent; 200 with the conversation afterwards."""

    permission_classes = [IsSupportAgent]

    @extend_schema(request=ApplyMacroSerializer, responses=ConversationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        conversation = get_object_or_404(Conversation.objects.select_related("contact"), pk=pk)
        body = ApplyMacroSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        macros.macro_apply(
            macro=body.validated_data["macro"],
            conversation=conversation,
            agent=request.user,
            inputs=body.validated_data.get("inputs"),
        )
        fresh = conversation_queryset().get(pk=conversation.pk)
        return Response(ConversationSerializer(fresh, context={"request": request}).data)

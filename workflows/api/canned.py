"""API of canned responses (docs/agent_day.md "Canned responses"): `GET/POST /api/canned-responses/`, a personal one
with `"personal": true`, and `POST /api/canned-responses/{id}/render/` `{"conversation"}` → `{"text"}`, the text with
its placeholders filled for the agent to edit and send. Thin views over `workflows.engine.canned`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.api.base import HelpdeskAPIMixin
from conversations.models import Conversation
from workflows.api.personal import PersonalOrSharedMixin, owner_for
from workflows.engine import canned
from workflows.models import CannedResponse


class CannedResponseSerializer(serializers.ModelSerializer):
    """`{"name", "body", "personal"}`; the name and the template are checked by `workflows.engine.canned`."""

    personal = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("Only its owner sees a personal response; agents make only these."),
    )
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = CannedResponse
        fields = ["id", "name", "body", "personal", "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]

    def to_representation(self, instance: CannedResponse) -> dict:
        data = super().to_representation(instance)
        data["personal"] = instance.owner_id is not None
        return data

    def create(self, validated_data: dict) -> CannedResponse:
        user = self.context["request"].user
        owner = owner_for(user, personal=validated_data.pop("personal", False), noun=gettext_lazy("canned responses"))
        return canned.canned_response_create(created_by=user, owner=owner, **validated_data)

    def update(self, instance: CannedResponse, validated_data: dict) -> CannedResponse:
        values = {key: validated_data[key] for key in ("name", "body") if key in validated_data}
        return canned.canned_response_update(canned=instance, **values)


class RenderSerializer(serializers.Serializer):
    conversation = serializers.PrimaryKeyRelatedField(queryset=Conversation.objects.select_related("contact"))


class CannedResponseViewSet(PersonalOrSharedMixin, HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Canned responses: agents read the shared ones and their own and render them for a conversation; managers
    manage shared ones; anyone manages their own personal ones."""

    serializer_class = CannedResponseSerializer
    shared_noun = gettext_lazy("canned responses")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CannedResponse.objects.none()
        return canned.canned_responses_for(self.request.user).select_related("owner")

    @extend_schema(
        request=RenderSerializer,
        responses=inline_serializer("RenderedCannedResponse", {"text": serializers.CharField()}),
    )
    @action(detail=True, methods=["post"], url_path="render")
    def render_text(self, request: Request, pk: str | None = None) -> Response:
        """The text with its placeholders filled from the conversation: 200 `{"text"}`; nothing is sent."""
        item = self.get_object()
        body = RenderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            {"text": canned.canned_response_render(canned=item, conversation=body.validated_data["conversation"])}
        )

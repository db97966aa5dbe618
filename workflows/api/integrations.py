"""API of integrations and custom actions (docs/api.md): thin serializers and viewsets over
`workflows.integrations.services` and `workflows.integrations.custom_actions`. Secret values are write-only: a read
shows which secrets are set, never their value. Only support managers reach these endpoints.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from workflows.integrations import custom_actions
from workflows.integrations import services as integrations
from workflows.models import CustomAction, HttpMethod, Integration


class IntegrationSerializer(serializers.ModelSerializer):
    """`{"name", "base_url", "auth": {"type", ...}, "headers": [{"key", "value"}], "secrets": {"NAME": "value"}}`.

    Reads return `auth` with its public fields and `has_<secret field>` flags, and `secret_names`; `secrets` and the
    secret auth fields are accepted on write only. On update, a secret left out (or blank) keeps its value and a
    named secret set to "" is removed.
    """

    base_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    auth = serializers.JSONField(
        required=False,
        help_text='{"type": "none"|"basic"|"bearer"|"header"|"oauth2_client_credentials", ...its fields}',
    )
    headers = serializers.JSONField(required=False, help_text='[{"key": "...", "value": "..."}]')
    secrets = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, write_only=True
    )

    class Meta:
        model = Integration
        fields = ["id", "name", "base_url", "auth", "headers", "secrets", "secret_names", "created_at", "updated_at"]
        read_only_fields = ["id", "secret_names", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}  # uniqueness is checked by the service (one message, one place)

    def to_representation(self, instance: Integration) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["auth"] = integrations.auth_summary(instance)
        return data

    def _save(self, instance: Integration | None, data: dict) -> Integration:
        current = instance or Integration()
        return integrations.integration_save(
            integration=instance,
            name=data.get("name", current.name),
            base_url=data.get("base_url", current.base_url),
            auth=data.get("auth", integrations.auth_summary(current) if instance else None),
            headers=data.get("headers", current.headers),
            secrets=data.get("secrets", {}),
        )

    def create(self, validated_data: dict) -> Integration:
        return self._save(None, validated_data)

    def update(self, instance: Integration, validated_data: dict) -> Integration:
        return self._save(instance, validated_data)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "Integration id or name"})
class IntegrationReferenceField(serializers.Field):
    """An integration named by id or by name (docs/api.md); reads back as its id."""

    def to_internal_value(self, data: Any) -> Integration:
        if not isinstance(data, (int, str)) or isinstance(data, bool) or data == "":
            raise serializers.ValidationError(_("Give an integration id or name."))
        try:
            return integrations.resolve_integration(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(f'No integration "{data}".') from exc

    def to_representation(self, value: Integration) -> int:
        return value.pk


class CustomActionSerializer(serializers.ModelSerializer):
    """`{"integration", "name", "method", "path", "input_schema", "output_schema", "published"}` (docs/api.md)."""

    integration = IntegrationReferenceField()
    integration_name = serializers.CharField(source="integration.name", read_only=True)
    method = serializers.ChoiceField(choices=HttpMethod.choices, default=HttpMethod.POST)
    input_schema = serializers.JSONField(required=False)
    output_schema = serializers.JSONField(required=False)

    class Meta:
        model = CustomAction
        fields = [
            "id",
            "integration",
            "integration_name",
            "name",
            "description",
            "method",
            "path",
            "input_schema",
            "output_schema",
            "published",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}

    def _save(self, instance: CustomAction | None, data: dict) -> CustomAction:
        current = instance or CustomAction()
        values = {
            name: data.get(name, getattr(current, name, None))
            for name in ("name", "description", "method", "path", "input_schema", "output_schema", "published")
        }
        # Not `data.get(..., current.integration)`: a new action has no integration to read.
        integration = data["integration"] if "integration" in data else current.integration  # noqa: SIM401
        return custom_actions.custom_action_save(action=instance, integration=integration, **values)

    def create(self, validated_data: dict) -> CustomAction:
        return self._save(None, validated_data)

    def update(self, instance: CustomAction, validated_data: dict) -> CustomAction:
        return self._save(instance, validated_data)


class CustomActionTestRequestSerializer(serializers.Serializer):
    input = serializers.JSONField(required=False, default=dict, help_text="The input JSON to execute the action with.")


class CustomActionTestResultSerializer(serializers.Serializer):
    status_code = serializers.IntegerField(allow_null=True)
    response = serializers.JSONField(allow_null=True)
    valid = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())


class IntegrationViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Integrations: base URL, auth, static headers, named secrets (write-only)."""

    serializer_class = IntegrationSerializer
    permission_classes = [IsSupportManager]
    queryset = Integration.objects.order_by("name", "id")

    def perform_destroy(self, instance: Integration) -> None:
        integrations.integration_delete(integration=instance)


class CustomActionViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Custom actions; only published ones can be used by workflows, any can be tested."""

    serializer_class = CustomActionSerializer
    permission_classes = [IsSupportManager]

    def get_queryset(self) -> QuerySet[CustomAction]:
        return CustomAction.objects.select_related("integration").order_by("name", "id")

    @extend_schema(request=CustomActionTestRequestSerializer, responses=CustomActionTestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk=None) -> Response:
        """Execute the action once with `input`: status, response and schema check (never an error status)."""
        custom_action = self.get_object()
        body = CustomActionTestRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = custom_actions.custom_action_test(
            action=custom_action, payload=body.validated_data["input"], key=str(uuid.uuid4())
        )
        return Response(result.as_dict())

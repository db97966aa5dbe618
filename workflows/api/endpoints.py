"""API of delivery health (docs/managers.md): `GET /api/endpoints/` lists every outbound destination with its figures
and state; `POST /api/endpoints/{id}/enable/` `{"redeliver_failed_since"?}` re-enables one and may re-queue the
deliveries that failed there since a time. Managers only; the work is in `workflows.integrations.delivery`.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from workflows import services
from workflows.api.serializers import StrictSerializer
from workflows.models import Endpoint


class EndpointSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=["healthy", "failing", "disabled"], read_only=True)

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "url",
            "kind",
            "attempts",
            "failures",
            "consecutive_failures",
            "last_success_at",
            "last_failure_at",
            "last_error",
            "state",
            "disabled_at",
            "failing_since",
        ]
        read_only_fields = fields


class EnableRequestSerializer(StrictSerializer):
    redeliver_failed_since = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Re-send the deliveries to this endpoint that failed since then."
    )


class EnableResponseSerializer(serializers.Serializer):
    endpoint = EndpointSerializer()
    redelivered_runs = serializers.ListField(child=serializers.IntegerField())


class EndpointViewSet(HelpdeskAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Health of every outbound destination (webhook URLs, integrations, Slack, SMS providers)."""

    serializer_class = EndpointSerializer
    permission_classes = [IsSupportManager]

    def get_queryset(self) -> QuerySet[Endpoint]:
        return Endpoint.objects.order_by("kind", "url", "id")

    @extend_schema(request=EnableRequestSerializer, responses=EnableResponseSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk=None) -> Response:
        """Re-enable the endpoint; with `redeliver_failed_since`, re-queue the runs whose delivery failed since."""
        endpoint = self.get_object()
        body = EnableRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run_ids = services.endpoint_enable(
            endpoint=endpoint, redeliver_failed_since=body.validated_data.get("redeliver_failed_since")
        )
        return Response({"endpoint": EndpointSerializer(endpoint).data, "redelivered_runs": run_ids})

"""HTTP health probes (liveness and readiness) for load balancers, systemd and Kubernetes.

`GET /api/health/live/` answers 200 while the web process serves and reaches its database. `GET /api/health/ready/`
adds the facts of `manage.py helpdesk_health` (workflows/engine/health.py): 503 when due work has waited longer than
`HELPDESK_HEALTH_MAX_AGE_SECONDS`, i.e. the workers are stuck or gone. Both are anonymous, answer JSON and name no
customer data: a probe has no token.
"""

from __future__ import annotations

from django.db import DatabaseError, connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.base import APIVersionHeaderMixin
from conversations.conf import helpdesk_setting
from workflows.engine.health import check_health

HEALTH_SHAPE = inline_serializer(
    "Health", {"status": serializers.ChoiceField(["ok", "unhealthy"]), "message": serializers.CharField()}
)


def database_reachable() -> bool:
    """One trivial query: the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


class _Probe(APIVersionHeaderMixin, APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @staticmethod
    def answer(healthy: bool, message: str) -> Response:
        return Response(
            {"status": "ok" if healthy else "unhealthy", "message": message},
            status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
        )


class LivenessView(_Probe):
    @extend_schema(operation_id="health_live", responses={200: HEALTH_SHAPE, 503: OpenApiResponse(HEALTH_SHAPE)})
    def get(self, request) -> Response:
        """200 while the process serves and its database answers."""
        if not database_reachable():
            return self.answer(False, "The database does not answer.")
        return self.answer(True, "OK: serving.")


class ReadinessView(_Probe):
    @extend_schema(operation_id="health_ready", responses={200: HEALTH_SHAPE, 503: OpenApiResponse(HEALTH_SHAPE)})
    def get(self, request) -> Response:
        """200 while no due work has waited past the limit; 503 naming the oldest due work otherwise."""
        if not database_reachable():
            return self.answer(False, "The database does not answer.")
        verdict = check_health(float(helpdesk_setting("HEALTH_MAX_AGE_SECONDS")))
        return self.answer(verdict.healthy, verdict.message)

"""The discovery endpoint for AI agents: `GET /api/workflows/callable/` (alias `GET /api/ai/workflows/`) lists the
active manual workflows with their input JSON Schema and an LLM tool definition; `POST /api/workflows/{id}/run/`
runs one. workflows/api/helpdesk_urls.py includes this module before the router, so `callable` is not taken for a
workflow id.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from workflows.api.responses import CallableWorkflowsSerializer
from workflows.triggers.manual import callable_workflows


class CallableWorkflowsView(HelpdeskAPIMixin, APIView):
    """Workflows an agent may call, with the same rights as running them (support managers and their tokens)."""

    permission_classes = [IsSupportManager]

    @extend_schema(responses={200: CallableWorkflowsSerializer})
    def get(self, request: Request) -> Response:
        """`{"count", "results": [{"id", "name", "description", "version", "run_url", "input_schema", "tool"}]}`."""
        results = callable_workflows()
        return Response({"count": len(results), "results": results})


urlpatterns = [
    path("workflows/callable/", CallableWorkflowsView.as_view(), name="workflows-callable"),
    path("ai/workflows/", CallableWorkflowsView.as_view(), name="ai-workflows"),
]

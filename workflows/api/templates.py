"""`workflow-templates/` (the gallery as JSON) and `workflow-templates/{key}/use/` (a draft workflow from one):
the same templates and the same service the admin gallery uses (workflows/gallery/catalog.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from workflows import selectors as analytics
from workflows.api.serializers import WorkflowSerializer
from workflows.engine.definition import DefinitionError
from workflows.gallery import catalog as gallery
from workflows.models import Workflow


class WorkflowTemplateSerializer(serializers.Serializer):
    key = serializers.CharField(source="slug")
    name = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    trigger_type = serializers.CharField()
    steps = serializers.ListField(child=serializers.CharField(), source="step_preview")
    definition = serializers.JSONField()


TEMPLATE_KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The template's key.")


class WorkflowTemplateViewSet(HelpdeskAPIMixin, viewsets.ViewSet):
    """Ready workflows by category; `use` creates a draft the manager edits and activates."""

    permission_classes = [IsSupportManager]
    filter_backends: list = []  # `?category=` is read by `list` itself; the gallery is no queryset
    lookup_field = "key"
    lookup_value_regex = r"[A-Za-z0-9_-]+"

    def _template(self, key: str) -> gallery.WorkflowTemplate:
        try:
            return gallery.get_template(key)
        except gallery.TemplateNotFound as exc:
            raise NotFound(str(exc)) from exc

    @extend_schema(
        responses=WorkflowTemplateSerializer(many=True),
        parameters=[
            OpenApiParameter("category", str, description="Only the templates of this category (any letter case).")
        ],
    )
    def list(self, request: Request) -> Response:
        """Paginated like every list (`{"count", "next", "previous", "results"}`)."""
        templates = gallery.all_templates()
        category = request.query_params.get("category")
        if category:
            templates = tuple(t for t in templates if t.category.lower() == category.lower())
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(list(templates), request, view=self)
        return paginator.get_paginated_response(WorkflowTemplateSerializer(page, many=True).data)

    @extend_schema(responses=WorkflowTemplateSerializer, parameters=[TEMPLATE_KEY])
    def retrieve(self, request: Request, key: str | None = None) -> Response:
        return Response(WorkflowTemplateSerializer(self._template(key)).data)

    @extend_schema(request=None, responses={201: WorkflowSerializer}, parameters=[TEMPLATE_KEY])
    @action(detail=True, methods=["post"])
    def use(self, request: Request, key: str | None = None) -> Response:
        self._template(key)
        try:
            workflow = gallery.template_use(slug=key, created_by=request.user)
        except DefinitionError as exc:  # a template whose step type is unavailable on this install
            raise serializers.ValidationError(exc.errors) from exc
        workflow = analytics.with_stats(Workflow.objects.prefetch_related("steps")).get(pk=workflow.pk)
        return Response(
            WorkflowSerializer(workflow, context={"request": request, "reveal_new_write_only": True}).data,
            status=status.HTTP_201_CREATED,
        )

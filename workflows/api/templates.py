"""`workflow-templates/` (the gallery as JSON) and `workflow-templates/{key}/use/` (a draft workflow from one):
the same templates and the same service the admin gallery uses (workflows/gallery/catalog.py)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import selectors as analytics
from workflows.gallery import catalog as gallery
from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from workflows.api.serializers import WorkflowSerializer
from workflows.engine.definition import DefinitionError
from workflows.models import Workflow


class WorkflowTemplateSerializer(serializers.Serializer):
    key = serializers.CharField(source="slug")
    name = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    trigger_type = serializers.CharField()
    steps = serializers.ListField(child=serializers.CharField(), source="step_preview")
    definition = serializers.JSONField()


class WorkflowTemplateViewSet(HelpdeskAPIMixin, viewsets.ViewSet):
    """Ready workflows by category; `use` creates a draft the manager edits and activates."""

    permission_classes = [IsSupportManager]
    pagination_class = None  # the gallery is one short list; the mixin's pagination is for the generic views
    lookup_field = "key"
    lookup_value_regex = r"[A-Za-z0-9_-]+"

    def _template(self, key: str) -> gallery.WorkflowTemplate:
        try:
            return gallery.get_template(key)
        except gallery.TemplateNotFound as exc:
            raise NotFound(str(exc)) from exc

    @extend_schema(responses=WorkflowTemplateSerializer(many=True))
    def list(self, request: Request) -> Response:
        templates = gallery.all_templates()
        category = request.query_params.get("category")
        if category:
            templates = tuple(t for t in templates if t.category.lower() == category.lower())
        return Response(WorkflowTemplateSerializer(templates, many=True).data)

    @extend_schema(responses=WorkflowTemplateSerializer)
    def retrieve(self, request: Request, key: str | None = None) -> Response:
        return Response(WorkflowTemplateSerializer(self._template(key)).data)

    @extend_schema(request=None, responses={201: WorkflowSerializer})
    @action(detail=True, methods=["post"])
    def use(self, request: Request, key: str | None = None) -> Response:
        self._template(key)
        try:
            workflow = gallery.template_use(slug=key, created_by=request.user)
        except DefinitionError as exc:  # a template whose step type is unavailable on this install
            raise serializers.ValidationError(exc.errors) from exc
        workflow = analytics.with_stats(Workflow.objects.prefetch_related("steps")).get(pk=workflow.pk)
        return Response(WorkflowSerializer(workflow, context={"request": request, "reveal_new_write_only": True}).data,
                        status=status.HTTP_201_CREATED)

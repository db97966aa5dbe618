"""Views of the workflow API (docs/api.md): thin — they check the request's shape and call `workflows.services`,
`workflows.engine.dryrun` and `workflows.selectors`. Only support managers reach any of them.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations import clock
from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from workflows import selectors as analytics
from workflows import services
from workflows.api.filters import WorkflowFilter, WorkflowRunFilter
from workflows.api.responses import WorkflowAnalyticsSerializer, WorkflowDefinitionSerializer
from workflows.api.serializers import (
    DryRunRequestSerializer,
    DryRunResultSerializer,
    ImportSerializer,
    ManualRunRequestSerializer,
    RetryRequestSerializer,
    WorkflowRunSerializer,
    WorkflowSerializer,
    definition_errors,
)
from workflows.choices import WorkflowStatus
from workflows.engine import dryrun
from workflows.engine.definition import DefinitionError
from workflows.models import Workflow, WorkflowRun

DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 731
MIN_YEAR, MAX_YEAR = 1970, 9000  # outside this a date is a typo, and date arithmetic near its limits overflows


class WorkflowViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Workflows as workflow definitions; every save is a new version, the previous ones are kept."""

    serializer_class = WorkflowSerializer
    permission_classes = [IsSupportManager]
    filterset_class = WorkflowFilter

    def get_queryset(self) -> QuerySet[Workflow]:
        return analytics.with_stats(Workflow.objects.prefetch_related("steps")).order_by("name", "id")

    def perform_destroy(self, instance: Workflow) -> None:
        services.workflow_delete(workflow=instance)

    def _workflow_response(
        self, workflow: Workflow, code: int = status.HTTP_200_OK, *, reveal_new: bool = False
    ) -> Response:
        """The workflow as GET shows it; `reveal_new` shows the write-only values this request generated, once."""
        context = {**self.get_serializer_context(), "reveal_new_write_only": reveal_new}
        return Response(self.get_serializer(self.get_queryset().get(pk=workflow.pk), context=context).data, status=code)

    @extend_schema(request=None, responses=WorkflowSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk=None) -> Response:
        workflow = services.workflow_set_status(workflow=self.get_object(), status=WorkflowStatus.ACTIVE)
        return self._workflow_response(workflow)

    @extend_schema(request=None, responses=WorkflowSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk=None) -> Response:
        workflow = services.workflow_set_status(workflow=self.get_object(), status=WorkflowStatus.INACTIVE)
        return self._workflow_response(workflow)

    @extend_schema(request=None, responses={201: WorkflowSerializer})
    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, pk=None) -> Response:
        """A draft copy; write-only values (webhook secrets) are copied server-side and shown masked."""
        copy = services.workflow_duplicate(workflow=self.get_object(), created_by=request.user)
        return self._workflow_response(copy, status.HTTP_201_CREATED)

    @extend_schema(request=DryRunRequestSerializer, responses=DryRunResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk=None) -> Response:
        """Dry run on a conversation or a sample event: what each step would do, nothing changed."""
        workflow = self.get_object()
        body = DryRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = body.validated_data.get("event") or {}
        try:
            report = dryrun.dry_run(
                definition=services.workflow_definition(workflow),
                conversation=body.validated_data["conversation"],
                sample_event=event,
            )
        except DefinitionError as exc:
            raise definition_errors(exc) from exc
        return Response(report)

    @extend_schema(request=ManualRunRequestSerializer, responses={201: WorkflowRunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk=None) -> Response:
        """Start a `manual` workflow on a conversation (a person or an AI agent decided)."""
        workflow = self.get_object()
        body = ManualRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = services.workflow_run_manual(
            workflow=workflow,
            conversation=body.validated_data["conversation"],
            inputs=body.validated_data["inputs"],
            actor=request.user,
        )
        return Response(WorkflowRunSerializer(run_queryset().get(pk=run.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/json"): WorkflowDefinitionSerializer})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk=None) -> HttpResponse:
        """The workflow definition as a downloadable JSON file (import it with `POST /api/workflows/import/`).
        Write-only values are exported as "****"; importing them generates new ones (a webhook gets a new secret)."""
        workflow = self.get_object()
        response = HttpResponse(
            json.dumps(services.workflow_definition(workflow), indent=2, ensure_ascii=False),
            content_type="application/json",
        )
        filename = f"workflow-{workflow.pk}-{slugify(workflow.name) or 'export'}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(request=WorkflowSerializer, responses={201: WorkflowSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_definition(self, request: Request) -> Response:
        """Create a workflow from a workflow definition or an export file (`{"workflow": {...}}` too); draft unless it
        says. A masked write-only value ("****") is generated anew, and this response shows it once."""
        body = ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workflow = services.workflow_create(definition=body.validated_data, created_by=request.user)
        return self._workflow_response(workflow, status.HTTP_201_CREATED, reveal_new=True)


def run_queryset() -> QuerySet[WorkflowRun]:
    """Runs with everything the serializer reads loaded up front (constant queries per page)."""
    return WorkflowRun.objects.select_related("workflow", "event").prefetch_related("steps")


class WorkflowRunViewSet(HelpdeskAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Run history with step results; failed runs can be retried from their failed step, unfinished ones cancelled."""

    serializer_class = WorkflowRunSerializer
    permission_classes = [IsSupportManager]
    filterset_class = WorkflowRunFilter

    def get_queryset(self) -> QuerySet[WorkflowRun]:
        return run_queryset().order_by("-created_at", "-id")

    def _run_response(self, run: WorkflowRun) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=run.pk)).data)

    @extend_schema(request=RetryRequestSerializer, responses=WorkflowRunSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk=None) -> Response:
        """Re-run a failed run from its failed step (steps that succeeded are not executed again), on the version it
        ran or, with `{"version": "current"}`, on the workflow's current version."""
        run = self.get_object()
        body = RetryRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._run_response(services.run_retry(run=run, version=body.validated_data["version"]))

    @extend_schema(request=None, responses=WorkflowRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        """Stop a run that has not finished; a waiting run never resumes."""
        return self._run_response(services.run_cancel(run=self.get_object()))


def _parse_day(value: str | None, name: str) -> dt.date | None:
    """A `YYYY-MM-DD` date (or an ISO datetime, whose date is used); a bad value is a 400 naming the parameter."""
    if value in (None, ""):
        return None
    day = None
    for parse in (dt.date.fromisoformat, lambda text: dt.datetime.fromisoformat(text).date()):
        try:
            day = parse(value)
            break
        except ValueError:
            continue
    if day is None or not MIN_YEAR <= day.year <= MAX_YEAR:
        raise serializers.ValidationError({name: [_("Use a date like 2026-01-31.")]})
    return day


class WorkflowAnalyticsView(HelpdeskAPIMixin, APIView):
    """`GET /api/analytics/workflows/?since=&until=`: totals, rates, average duration, daily trend, most triggered.

    The window defaults to the last 30 days up to today; both ends are included.
    """

    permission_classes = [IsSupportManager]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since",
                OpenApiTypes.DATE,
                description=(
                    f"First day (default: {DEFAULT_WINDOW_DAYS} days before until); on or before until, at most "
                    f"{MAX_WINDOW_DAYS} days before it, years {MIN_YEAR} to {MAX_YEAR}, or 400."
                ),
            ),
            OpenApiParameter(
                "until",
                OpenApiTypes.DATE,
                description=(f"Last day, included (default: today); years {MIN_YEAR} to {MAX_YEAR}, or 400."),
            ),
        ],
        responses={(200, "application/json"): WorkflowAnalyticsSerializer},
    )
    def get(self, request: Request) -> Response:
        until = _parse_day(request.query_params.get("until"), "until") or timezone.localdate(clock.now())
        since = _parse_day(request.query_params.get("since"), "since") or until - dt.timedelta(days=DEFAULT_WINDOW_DAYS)
        if since > until:
            raise serializers.ValidationError({"since": [_("since must be on or before until.")]})
        if (until - since).days > MAX_WINDOW_DAYS:
            raise serializers.ValidationError(
                {"since": [_("The window is at most %(days)s days.") % {"days": MAX_WINDOW_DAYS}]}
            )
        return Response(analytics.workflow_analytics(since=since, until=until))

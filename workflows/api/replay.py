"""Replay over the API (docs/managers.md): `POST /api/workflows/{id}/replay/` starts one (202 with its id) and
`GET /api/workflow-replays/{id}/` follows it. Thin: `workflows.engine.replay` does the work, in the workers.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from workflows.api.responses import WorkflowReplayReportSerializer
from workflows.api.serializers import MAX_ID, StrictSerializer, definition_errors, refuse_too_many_steps
from workflows.api.views import MAX_WINDOW_DAYS, MAX_YEAR, MIN_YEAR
from workflows.engine import replay as replays
from workflows.engine.definition import DefinitionError
from workflows.models import Workflow, WorkflowReplay

MAX_LIMIT = 1_000_000


class ReplayRequestSerializer(StrictSerializer):
    """`{"since", "until", "limit"?, "definition"?}`: the period (ISO dates or date-times; a date is its midnight),
    at most `limit` events, and a draft workflow definition to replay instead of the saved one."""

    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    limit = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_LIMIT)
    definition = serializers.DictField(required=False, allow_null=True)

    def validate_since(self, value):
        return _in_years(value)

    def validate_until(self, value):
        return _in_years(value)

    def validate_definition(self, value: dict | None) -> dict | None:
        refuse_too_many_steps(value)
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": [_("The end of the period must be after its start.")]})
        if (attrs["until"] - attrs["since"]).days > MAX_WINDOW_DAYS:
            raise serializers.ValidationError(
                {"since": [_("The period is at most %(days)s days.") % {"days": MAX_WINDOW_DAYS}]}
            )
        return attrs


def _in_years(value):
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise serializers.ValidationError(
            _("Give a date between the years %(min)s and %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR}
        )
    return value


class ReplayBusy(exceptions.Throttled):
    """429 with Retry-After: too many replays are running; nothing was queued, try again later."""

    def __init__(self, detail: str):
        super().__init__(wait=REPLAY_RETRY_AFTER_SECONDS, detail=detail)


REPLAY_RETRY_AFTER_SECONDS = 60


class ReplayStartView(HelpdeskAPIMixin, APIView):
    """Start a replay of a workflow over recorded events; it runs in the workers, follow it by its id."""

    permission_classes = [IsSupportManager]

    @extend_schema(
        request=ReplayRequestSerializer,
        responses={
            202: inline_serializer("ReplayStarted", {"id": serializers.IntegerField()}),
            429: inline_serializer("ReplayBusy", {"detail": serializers.CharField()}),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        workflow = get_object_or_404(Workflow, pk=pk if pk <= MAX_ID else 0)
        body = ReplayRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            replay = replays.replay_start(workflow=workflow, created_by=request.user, **body.validated_data)
        except DefinitionError as exc:
            raise serializers.ValidationError({"definition": definition_errors(exc).detail}) from exc
        except replays.ReplayLimitReached as exc:
            raise ReplayBusy(str(exc)) from exc
        return Response({"id": replay.pk}, status=status.HTTP_202_ACCEPTED)


class WorkflowReplayViewSet(HelpdeskAPIMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A replay's progress and figures: status, progress, matched, would_start, by_outcome, steps and samples."""

    permission_classes = [IsSupportManager]
    queryset = WorkflowReplay.objects.all()
    lookup_value_regex = r"[0-9]{1,18}"  # an id past the database's integer range names no replay: 404

    @extend_schema(responses={(200, "application/json"): WorkflowReplayReportSerializer})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(replays.replay_report(self.get_object()))

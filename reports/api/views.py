"""Views of the reports API: thin, they read the period and grouping and hand over to the selectors and exporter."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from reports.export import export_lines
from reports.groupings import GROUPINGS
from reports.periods import DEFAULT_DAYS, MAX_DAYS, Period, period_for
from reports.selectors import conversation_report

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "since",
        OpenApiTypes.DATE,
        description=(
            _(
                "First day, included, in your time zone (default: %(DEFAULT_DAYS)s days before until); on or before until, at most %(MAX_DAYS)s days before it, or 400."
            )
            % {"DEFAULT_DAYS": DEFAULT_DAYS, "MAX_DAYS": MAX_DAYS}
        ),
    ),
    OpenApiParameter(
        "until", OpenApiTypes.DATE, description=_("Last day, included, in your time zone (default: today).")
    ),
]


class GroupBySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=list(GROUPINGS), required=False, default="day")


def _period(request: Request) -> Period:
    return period_for(
        user=request.user, since=request.query_params.get("since"), until=request.query_params.get("until")
    )


class ConversationReportView(HelpdeskAPIMixin, APIView):
    """`GET /api/analytics/conversations/?since=&until=&group_by=`: created, resolved, reopened, first response and
    resolution minutes (median, p90), CSAT and SLA per agent, team, channel, tag or day, and in total."""

    permission_classes = [IsSupportManager]

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter(
                "group_by",
                OpenApiTypes.STR,
                enum=list(GROUPINGS),
                description=_("How rows are grouped (default: day)."),
            ),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        query = GroupBySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = _period(request)
        return Response(conversation_report(period=period, group_by=query.validated_data["group_by"]))


class ConversationExportView(HelpdeskAPIMixin, APIView):
    """`GET /api/exports/conversations.csv?since=&until=`: one CSV row per conversation created in the period,
    streamed."""

    permission_classes = [IsSupportManager]

    @extend_schema(
        operation_id="exports_conversations_csv",
        parameters=PERIOD_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        period = _period(request)
        response = StreamingHttpResponse(export_lines(period=period), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="conversations-{period.since.isoformat()}-{period.until.isoformat()}.csv"'
        )
        return response

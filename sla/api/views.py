"""Views of the SLA API: thin ViewSets over the services, managers only (docs/api.md)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations import clock
from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from sla.analytics import sla_report
from sla.api.serializers import (
    BusinessHoursSerializer,
    SlaPolicySerializer,
    SlaReportQuerySerializer,
    SlaReportSerializer,
)
from sla.models import BusinessHours, SlaPolicy
from sla.policies import business_hours_delete, business_hours_save, sla_policy_save

DEFAULT_REPORT_DAYS = 30


class BusinessHoursViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Business-hours calendars: timezone, weekly open intervals, holidays."""

    queryset = BusinessHours.objects.all()
    serializer_class = BusinessHoursSerializer
    permission_classes = [IsSupportManager]

    def perform_create(self, serializer) -> None:
        serializer.instance = business_hours_save(**serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = business_hours_save(calendar=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: BusinessHours) -> None:
        business_hours_delete(calendar=instance)


class SlaPolicyViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """SLA policies: match condition, targets per metric, calendar, pausing and warning point."""

    queryset = SlaPolicy.objects.select_related("business_hours")
    serializer_class = SlaPolicySerializer
    permission_classes = [IsSupportManager]

    def perform_create(self, serializer) -> None:
        serializer.instance = sla_policy_save(**serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = sla_policy_save(policy=serializer.instance, **serializer.validated_data)


class SlaReportView(HelpdeskAPIMixin, APIView):
    """Met / breached counts and rates per metric and per policy, median first response and resolution times."""

    permission_classes = [IsSupportManager]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since",
                OpenApiTypes.DATETIME,
                description=_("Start (default: 30 days before until); must be before until, or 400."),
            ),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description=_("End, exclusive (default: now).")),
        ],
        responses=SlaReportSerializer,
    )
    def get(self, request: Request) -> Response:
        query = SlaReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        until = query.validated_data.get("until") or clock.now()
        since = query.validated_data.get("since") or until - dt.timedelta(days=DEFAULT_REPORT_DAYS)
        if since >= until:
            return Response({"since": ["since must be before until."]}, status=400)
        return Response(sla_report(since=since, until=until))

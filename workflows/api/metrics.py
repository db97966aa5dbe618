"""Prometheus metrics: `GET /api/metrics/` in the text exposition format, for managers' tokens (a Prometheus scrape
job sends one as `Authorization: Bearer <token>`).

The figures are read from the database at scrape time (the database is the source of truth, whatever process
answers): events waiting for dispatch and the age of the oldest (the lag), runs by status, deliveries by status,
conversations waiting in team queues, and the task queue's depth. A custom collector on a registry of its own, so
nothing is kept in process memory between scrapes and several web processes answer the same.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min
from django.http import HttpResponse
from django_q.models import OrmQ
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from rest_framework.views import APIView

import conversations
from conversations import clock
from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from conversations.models import Conversation, Delivery, Event
from workflows.models import WorkflowRun


def _by_status(model, name: str, documentation: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for row in model.objects.order_by().values("status").annotate(total=Count("pk")):
        family.add_metric([row["status"]], row["total"])
    return family


class HelpdeskCollector:
    """Reads the figures once per scrape."""

    def collect(self) -> Iterator:
        yield InfoMetricFamily("helpdesk", "The helpdesk apps", value={"version": conversations.__version__})
        waiting = Event.objects.filter(dispatched_at__isnull=True).aggregate(
            total=Count("pk"), oldest=Min("occurred_at")
        )
        yield GaugeMetricFamily(
            "helpdesk_events_undispatched", "Events recorded but not yet dispatched", value=waiting["total"]
        )
        lag = (clock.now() - waiting["oldest"]).total_seconds() if waiting["oldest"] else 0.0
        yield GaugeMetricFamily("helpdesk_dispatch_lag_seconds", "Age of the oldest undispatched event", value=lag)
        yield _by_status(WorkflowRun, "helpdesk_runs", "Workflow runs by status")
        yield _by_status(Delivery, "helpdesk_deliveries", "Outgoing answers (mail, API channel) by status")
        yield GaugeMetricFamily(
            "helpdesk_conversations_queued",
            "Conversations waiting in a team's queue",
            value=Conversation.objects.filter(queued_since__isnull=False, assignee__isnull=True).count(),
        )
        yield GaugeMetricFamily(
            "helpdesk_task_queue_depth", "Tasks waiting in django-q2's ORM broker", value=OrmQ.objects.count()
        )


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HelpdeskCollector())
    return generate_latest(registry)


class MetricsView(HelpdeskAPIMixin, APIView):
    """The helpdesk's figures for Prometheus."""

    permission_classes = [IsSupportManager]

    @extend_schema(operation_id="metrics", responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request) -> HttpResponse:
        return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)

"""Routes of the SLA API: viewsets on the shared router, the report under analytics/."""

from django.urls import path

from conversations.api.base import router
from sla.api.views import BusinessHoursViewSet, SlaPolicyViewSet, SlaReportView

router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("business-hours", BusinessHoursViewSet, basename="business-hours")

urlpatterns = [
    path("analytics/sla/", SlaReportView.as_view(), name="analytics-sla"),
]

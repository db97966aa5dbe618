"""Routes of the workflow API: viewsets on the shared router, the analytics report under analytics/.

helpdesk/urls.py includes this module before `router.urls`, so the registrations are in place when the router
builds its URL list.
"""
from django.urls import path

from helpdesk.api import router
from workflows.api.views import WorkflowAnalyticsView, WorkflowRunViewSet, WorkflowViewSet

router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("workflow-runs", WorkflowRunViewSet, basename="workflow-run")

urlpatterns = [
    path("analytics/workflows/", WorkflowAnalyticsView.as_view(), name="analytics-workflows"),
]

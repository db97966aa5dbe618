"""Routes of the workflow API: viewsets on the shared router, the analytics report under analytics/.

workflows/api/helpdesk_urls.py includes this module before `router.urls`, so the registrations are in place when the
router builds its URL list.
"""

from django.urls import path

from conversations.api.base import router
from workflows.api.views import WorkflowAnalyticsView, WorkflowRunViewSet, WorkflowViewSet

router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("workflow-runs", WorkflowRunViewSet, basename="workflow-run")

urlpatterns = [
    path("analytics/workflows/", WorkflowAnalyticsView.as_view(), name="analytics-workflows"),
]

from workflows.api.integrations import CustomActionViewSet, IntegrationViewSet  # noqa: E402

router.register("integrations", IntegrationViewSet, basename="integration")
router.register("custom-actions", CustomActionViewSet, basename="custom-action")

from workflows.api.templates import WorkflowTemplateViewSet  # noqa: E402

router.register("workflow-templates", WorkflowTemplateViewSet, basename="workflow-template")

from workflows.api.endpoints import EndpointViewSet  # noqa: E402

router.register("endpoints", EndpointViewSet, basename="endpoint")

from workflows.api.replay import ReplayStartView, WorkflowReplayViewSet  # noqa: E402

router.register("workflow-replays", WorkflowReplayViewSet, basename="workflow-replay")
urlpatterns.append(path("workflows/<int:pk>/replay/", ReplayStartView.as_view(), name="workflow-replay-start"))

from workflows.api.macros import ApplyMacroView, MacroViewSet  # noqa: E402

router.register("macros", MacroViewSet, basename="macro")
urlpatterns.append(
    path("conversations/<int:pk>/apply-macro/", ApplyMacroView.as_view(), name="conversation-apply-macro")
)

from workflows.api.canned import CannedResponseViewSet  # noqa: E402

router.register("canned-responses", CannedResponseViewSet, basename="canned-response")

from django.urls import re_path  # noqa: E402

from workflows.api.explain import ConversationEventsView, EventExplainView  # noqa: E402

urlpatterns += [
    re_path(
        r"^conversations/(?P<conversation_pk>[^/.]+)/events/$",
        ConversationEventsView.as_view(),
        name="conversation-events",
    ),
    re_path(r"^events/(?P<event_pk>[^/]+)/explain/$", EventExplainView.as_view(), name="event-explain"),
]

from workflows.api.health import LivenessView, ReadinessView  # noqa: E402

urlpatterns += [
    path("health/live/", LivenessView.as_view(), name="health-live"),
    path("health/ready/", ReadinessView.as_view(), name="health-ready"),
]

from workflows.api.privacy import ContactEraseView, ContactExportView  # noqa: E402

urlpatterns += [
    path("contacts/<int:pk>/erase/", ContactEraseView.as_view(), name="contact-erase"),
    path("contacts/<int:pk>/export/", ContactExportView.as_view(), name="contact-export"),
]

from workflows.api.metrics import MetricsView  # noqa: E402

urlpatterns.append(path("metrics/", MetricsView.as_view(), name="metrics"))

"""The inbox API routes, included by the host project beside the helpdesk API:
`path("api/", include("inboxes.api.urls"))`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from inboxes.api.views import InboundMailView, InboxViewSet

router = SimpleRouter()
router.register("inboxes", InboxViewSet, basename="inbox")

urlpatterns = [
    path("inboxes/<int:pk>/inbound/", InboundMailView.as_view(), name="inbox-inbound"),
    *router.urls,
]

"""The whole helpdesk API as one URLconf, for the demo project and any host project:
`path("api/", include("workflows.api.helpdesk_urls"))`.

Order matters: each app's routes register their viewsets on the shared router when included, so `router.urls`
comes last (and lists them all in its API root); the discovery paths come before the router's, so
`workflows/callable/` is not read as a workflow id. It lives in the top app because it includes all three.
"""

from django.urls import include, path

from conversations.api.base import router

urlpatterns = [
    path("", include("conversations.api.urls")),
    path("", include("sla.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("workflows.api.discovery")),
    path("", include("workflows.api.urls")),
    path("", include(router.urls)),
]

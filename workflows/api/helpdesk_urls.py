"""The whole helpdesk API as one URLconf, for the demo project and any host project:
`path("api/", include("workflows.api.helpdesk_urls"))`.

Order matters: each app's routes register their viewsets on the shared router when included, so `router.urls`
comes last (and lists them all in its API root); the discovery paths come before the router's, so
`workflows/callable/` is not read as a workflow id. It lives in the top app because it includes all three.

The apps' patterns are listed flat rather than each under its own `path("", include(...))`: the same routes in the
same order, but a request is matched in one pass instead of failing through five nested resolvers, each building
the list of patterns it tried (~75 µs of CPU for `POST /api/conversations/`, docs/operations.md).
"""

from django.urls import include

from conversations.api.base import router


def _patterns(module: str) -> list:
    """The module's `urlpatterns` (importing it registers its viewsets on the shared router)."""
    return list(include(module)[0].urlpatterns)


urlpatterns = [
    *_patterns("conversations.api.urls"),
    *_patterns("sla.api.urls"),
    *_patterns("reports.api.urls"),
    *_patterns("workflows.api.discovery"),
    *_patterns("workflows.api.urls"),
    *router.urls,
]

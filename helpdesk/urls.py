"""URL map: admin, the REST API under /api/, its OpenAPI schema and offline Swagger UI, public survey pages."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from drf_spectacular.views import SpectacularSwaggerView

from conversations.api.base import API_VERSION, API_VERSION_HEADER
from workflows.api.schema import CachedSchemaView

# There is no public site to visit: the admin's "View site" link (to "/", a 404) is left out.
admin.site.site_url = None
admin.site.site_header = admin.site.site_title = _("Helpdesk administration")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("inboxes.api.urls")),  # the channels room: inboxes and the inbound mail door
    path("api/", include("workflows.api.helpdesk_urls")),  # every app's API, as a host project includes it
    path("inboxes/", include("inboxes.urls")),  # provider inbound webhooks (django-anymail)
    path("api/schema/", CachedSchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("conversations.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A path no route matches: API clients get the JSON 404 the schema documents (e.g. an id the router's pattern
    refuses, such as `/api/teams/1.5/`), people get Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404, headers={API_VERSION_HEADER: API_VERSION})
    return defaults.page_not_found(request, exception)


handler404 = not_found

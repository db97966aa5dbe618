"""URL map: admin, the REST API under /api/, its OpenAPI schema and offline Swagger UI, public survey pages."""
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk.api import router

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("conversations.api.urls")),
    path("api/", include("sla.api.urls")),
    path("api/", include("workflows.api.discovery")),
    path("api/", include("workflows.api.urls")),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("conversations.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

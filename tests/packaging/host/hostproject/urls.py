"""The host project's URLs: its admin, the helpdesk API under /api/ and the helpdesk's public pages."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("workflows.api.helpdesk_urls")),
    path("", include("conversations.urls")),
]

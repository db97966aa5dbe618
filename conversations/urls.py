"""Public pages of the conversations domain (no login): the CSAT survey a contact opens from its link, and the
JavaScript catalog (`jsi18n/`) the admin's builders read their words from, so a host project including these URLs
gets it too."""

from django.apps import apps
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from conversations import views
from conversations.favicon import favicon

# The apps whose static JavaScript speaks through gettext() (only those installed: a host may leave some out).
JAVASCRIPT_PACKAGES = ("conversations", "sla", "reports", "inboxes", "workflows")


def javascript_catalog(request):
    """Django's JavaScriptCatalog for our installed apps, in the request's language."""
    packages = [name for name in JAVASCRIPT_PACKAGES if apps.is_installed(name)]
    return JavaScriptCatalog.as_view(packages=packages)(request)


urlpatterns = [
    path("jsi18n/", javascript_catalog, name="helpdesk-jsi18n"),
    path("survey/<str:token>/", views.survey_page, name="survey-page"),
    path("favicon.ico", favicon, name="favicon"),
]

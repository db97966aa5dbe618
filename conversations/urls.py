"""Public pages of the conversations domain (no login): the CSAT survey a contact opens from its link."""
from django.urls import path

from conversations import views
from conversations.favicon import favicon

urlpatterns = [
    path("survey/<str:token>/", views.survey_page, name="survey-page"),
    path("favicon.ico", favicon, name="favicon"),
]

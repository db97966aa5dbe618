"""Routes of the reports API."""

from django.urls import path

from reports.api.views import ConversationExportView, ConversationReportView

urlpatterns = [
    path("analytics/conversations/", ConversationReportView.as_view(), name="analytics-conversations"),
    path("exports/conversations.csv", ConversationExportView.as_view(), name="export-conversations"),
]

"""Non-API routes of the channels room: provider inbound webhooks (django-anymail), one set per inbox:
`path("inboxes/", include("inboxes.urls"))`."""

from django.urls import path

from inboxes.webhooks import InboxMailgunInboundView, InboxPostmarkInboundView

urlpatterns = [
    path(
        "anymail/<int:inbox_id>/mailgun/inbound_mime/", InboxMailgunInboundView.as_view(), name="inbox-mailgun-inbound"
    ),
    path("anymail/<int:inbox_id>/postmark/inbound/", InboxPostmarkInboundView.as_view(), name="inbox-postmark-inbound"),
]

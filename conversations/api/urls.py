"""Routes of the conversations API: viewsets on the shared router, plus the nested and public paths.

workflows/api/helpdesk_urls.py includes this module before `router.urls`, so the registrations below are in place
when the router builds its URL list (and its API root lists them).
"""

from django.urls import re_path

from conversations.api import agents, attachments, fields, views, workspace
from conversations.api.base import router

router.register("contacts", views.ContactViewSet, basename="contact")
router.register("teams", views.TeamViewSet, basename="team")
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("conversation-fields", fields.ConversationFieldViewSet, basename="conversation-field")
router.register("views", workspace.SavedViewViewSet, basename="saved-view")
router.register("notifications", workspace.NotificationViewSet, basename="notification")
router.register("agents", agents.AgentViewSet, basename="agent")

# `[^/.]+` rather than an int converter: a malformed id reaches the view and gets a JSON 404.
CONVERSATION = r"^conversations/(?P<conversation_pk>[^/.]+)"

urlpatterns = [
    re_path(
        rf"{CONVERSATION}/messages/$",
        views.MessageViewSet.as_view({"get": "list", "post": "create"}),
        name="conversation-messages",
    ),
    re_path(
        rf"{CONVERSATION}/recordings/$",
        views.RecordingViewSet.as_view({"get": "list", "post": "create"}),
        name="conversation-recordings",
    ),
    re_path(
        rf"{CONVERSATION}/messages/(?P<message_pk>[^/.]+)/retry/$",
        attachments.MessageDeliveryRetryView.as_view(),
        name="message-retry-delivery",
    ),
    re_path(
        r"^attachments/(?P<attachment_id>[^/.]+)/$",
        attachments.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
    re_path(r"^surveys/(?P<token>[^/]+)/answer/$", views.SurveyAnswerView.as_view(), name="survey-answer"),
]
urlpatterns += [
    re_path(rf"{CONVERSATION}/snooze/$", workspace.SnoozeView.as_view(), name="conversation-snooze"),
    re_path(rf"{CONVERSATION}/merge/$", workspace.MergeView.as_view(), name="conversation-merge"),
    re_path(rf"{CONVERSATION}/links/$", workspace.LinksView.as_view(), name="conversation-links"),
    re_path(rf"{CONVERSATION}/links/(?P<other_pk>[^/.]+)/$", workspace.LinkView.as_view(), name="conversation-link"),
    re_path(rf"{CONVERSATION}/presence/$", workspace.PresenceView.as_view(), name="conversation-presence"),
]

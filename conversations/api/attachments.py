"""Channel endpoints of messages (docs/channels.md): download an attachment, retry a failed delivery.

A file is streamed to whoever may read its conversation (agents and managers, like the conversation itself):
anonymous 401, any other account 403, an unknown id 404. The name sent is the cleaned one stored with the file.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations import services
from conversations.api.base import HelpdeskAPIMixin
from conversations.api.channels import MESSAGE_PREFETCH, MESSAGE_SELECT, reverse_one
from conversations.api.serializers import MessageSerializer
from conversations.api.views import IsSupportAgent
from conversations.models import Attachment, Message


def _path_id(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.INT, OpenApiParameter.PATH, description=description)


def _digits(value: str) -> int:
    if not str(value).isdigit() or not 0 < int(value) < 2**63:
        raise Http404
    return int(value)


class AttachmentDownloadView(HelpdeskAPIMixin, APIView):
    """`GET /api/attachments/{id}/`: the file itself, as a download under its clean name."""

    permission_classes = [IsSupportAgent]

    @extend_schema(
        parameters=[_path_id("attachment_id", "The attachment's id.")],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, attachment_id: str) -> FileResponse:
        attachment = get_object_or_404(Attachment.objects.all(), pk=_digits(attachment_id))
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        return FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type or "application/octet-stream",
        )


class MessageDeliveryRetryView(HelpdeskAPIMixin, APIView):
    """`POST /api/conversations/{id}/messages/{message_id}/retry/`: send a failed delivery again (same
    Message-ID or webhook-id); 400 when the message has no failed delivery."""

    permission_classes = [IsSupportAgent]

    @extend_schema(
        parameters=[_path_id("conversation_pk", "The conversation's id."), _path_id("message_pk", "The message's id.")],
        request=None,
        responses={200: MessageSerializer},
    )
    def post(self, request: Request, conversation_pk: str, message_pk: str) -> Response:
        message = get_object_or_404(
            Message.objects.select_related("delivery"), pk=_digits(message_pk), conversation_id=_digits(conversation_pk)
        )
        delivery = reverse_one(message, "delivery")
        if delivery is None:
            raise ValidationError({"delivery": [_("This message has no delivery.")]})
        services.delivery_retry(delivery=delivery)
        fresh = Message.objects.select_related(*MESSAGE_SELECT).prefetch_related(*MESSAGE_PREFETCH).get(pk=message.pk)
        return Response(MessageSerializer(fresh, context={"request": request}).data)

"""The inbox API (docs/channels.md): managers configure inboxes; the inbound door takes one raw mail per request and is
authenticated by the inbox's own inbound token (not a user's token), so a mail gateway holds no user account."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager, exception_handler
from conversations.models import Inbox
from conversations.selectors import resolve_team
from inboxes import services
from inboxes.api.parsers import RawMailOctetParser, RawMailParser
from inboxes.api.serializers import InboundResultSerializer, InboxSerializer, InboxWriteSerializer
from inboxes.inbound import import_raw_mail


def _service_fields(data: dict) -> dict:
    fields = dict(data)
    if "team" in fields:
        fields["team"] = resolve_team(fields["team"]) if fields["team"] not in (None, "") else None
    return fields


class InboxViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """`/api/inboxes/`: email and API inboxes (managers only). Passwords and secrets are write-only."""

    queryset = Inbox.objects.select_related("team").order_by("id")
    serializer_class = InboxSerializer
    permission_classes = [IsSupportManager]

    @extend_schema(request=InboxWriteSerializer, responses={201: InboxSerializer})
    def create(self, request, *args, **kwargs):
        body = InboxWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        inbox, token = services.inbox_create(**_service_fields(body.validated_data))
        answer = {**InboxSerializer(inbox).data, "inbound_token": token}
        if inbox.channel == "api" and not body.validated_data.get("secret"):
            answer["secret"] = services.inbox_secret(inbox, "secret")  # generated: shown this once
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=InboxWriteSerializer, responses={200: InboxSerializer})
    def update(self, request, *args, **kwargs):
        inbox = self.get_object()
        body = InboxWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        body.is_valid(raise_exception=True)
        services.inbox_update(inbox=inbox, **_service_fields(body.validated_data))
        return Response(InboxSerializer(inbox).data)

    def perform_destroy(self, instance: Inbox) -> None:
        services.inbox_delete(inbox=instance)

    @extend_schema(request=None, responses={200: OpenApiResponse(description=_('{"inbound_token"}'))})
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, pk=None):
        """A new inbound token, shown once; the old one stops working."""
        return Response({"inbound_token": services.inbox_rotate_token(inbox=self.get_object())})


class InboundMailView(APIView):
    """`POST /api/inboxes/{id}/inbound/` with `Authorization: Token <inbound_token>` and the raw mail
    (`message/rfc822`) → 202 `{"conversation", "message"}`, the same ids again for a mail already imported."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [RawMailParser, RawMailOctetParser]

    def get_exception_handler(self):
        return exception_handler

    def get_authenticate_header(self, request) -> str:
        return "Token"

    # The schema names the body application/octet-stream, which client generators support; `message/rfc822`, the
    # mail's own type, is taken the same way.
    @extend_schema(
        request={
            "application/octet-stream": {
                "type": "string",
                "format": "binary",
                "description": "The raw mail as received; send it as message/rfc822 or application/octet-stream.",
            }
        },
        responses={202: InboundResultSerializer, 401: OpenApiResponse(description=_("Missing or wrong token"))},
    )
    def post(self, request, pk: int):
        inbox = self._authenticated_inbox(request, pk)
        raw = request.data
        if not isinstance(raw, bytes | bytearray) or not raw.strip():
            raise exceptions.ValidationError(
                {"body": [_("Send the raw mail as the body (Content-Type: message/rfc822).")]}
            )
        try:
            result = import_raw_mail(inbox=inbox, raw=bytes(raw))
        except ValidationError as exc:
            raise exceptions.ValidationError({"body": exc.messages}) from exc
        return Response(
            {"conversation": result.conversation.pk, "message": result.message.pk}, status=status.HTTP_202_ACCEPTED
        )

    @staticmethod
    def _authenticated_inbox(request, pk: int) -> Inbox:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        inbox = Inbox.objects.select_related("team").filter(pk=pk).first()
        if (
            scheme.lower() != "token"
            or inbox is None
            or not services.inbox_check_token(inbox=inbox, token=token.strip())
        ):
            # One answer for an unknown inbox and a wrong token: the door tells a stranger nothing.
            raise exceptions.AuthenticationFailed("Missing or wrong inbound token.")
        return inbox

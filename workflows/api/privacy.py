"""Privacy endpoints (managers): erase a contact everywhere (`POST /api/contacts/{id}/erase/`) and export
everything held about one (`GET /api/contacts/{id}/export/`, streamed JSON)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from conversations.models import Contact
from workflows.api.responses import ContactExportSerializer
from workflows.privacy.erase import contact_erase
from workflows.privacy.export import contact_export

CONTACT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The contact's id.")


class ContactEraseView(HelpdeskAPIMixin, APIView):
    """Erase the contact's personal data everywhere it was copied; counts and times stay."""

    permission_classes = [IsSupportManager]

    @extend_schema(
        operation_id="contacts_erase",
        request=None,
        parameters=[CONTACT_ID],
        responses=inline_serializer(
            "Erasure",
            {"contact": serializers.IntegerField(), "erased": serializers.DictField(child=serializers.IntegerField())},
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        contact = get_object_or_404(Contact, pk=pk)
        return Response({"contact": contact.pk, "erased": contact_erase(contact=contact)})


class ContactExportView(HelpdeskAPIMixin, APIView):
    """Everything held about the contact as one JSON document, streamed."""

    permission_classes = [IsSupportManager]

    @extend_schema(
        operation_id="contacts_export",
        parameters=[CONTACT_ID],
        responses={(200, "application/json"): ContactExportSerializer},
    )
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        contact = get_object_or_404(Contact, pk=pk)
        response = StreamingHttpResponse(contact_export(contact), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
        return response

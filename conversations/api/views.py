"""Views of the conversations API (docs/api.md): contacts, teams, conversations, messages, recordings, tickets
and the public survey answer.

Views stay thin: a write serializer checks the request's shape, `perform_create`/`perform_update` hand the values to
`conversations.services` (which validate, write and record the domain event), and a read serializer renders the
result. List querysets prefetch what their serializer reads, so a page costs the same number of queries whatever
its size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations import services
from conversations.api.base import HelpdeskAPIMixin, IsSupportManager
from conversations.api.channels import MESSAGE_PREFETCH, MESSAGE_SELECT
from conversations.api.filters import ContactFilter, ConversationFilter, TicketFilter
from conversations.api.parsers import SafeJSONParser
from conversations.api.rows import conversation_rows, page_rows
from conversations.api.serializers import (
    ContactSerializer,
    ContactWriteSerializer,
    ConversationCreateSerializer,
    ConversationSerializer,
    ConversationUpdateSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    RecordingSerializer,
    SurveyAnswerSerializer,
    SurveyResultSerializer,
    TeamSerializer,
    TicketSerializer,
)
from conversations.api.throttling import HelpdeskAnonThrottle
from conversations.choices import SenderType
from conversations.models import Contact, Conversation, Message, Recording, Survey, Team, Ticket
from conversations.roles import is_agent
from conversations.routing.queue import waiting_conversations

READ_ACTIONS = ("list", "retrieve")
PAGE_PARAMETERS = {"page", "page_size"}  # a list query with nothing else builds no filterset


class IsSupportAgent(permissions.BasePermission):
    """Conversations are worked by agents and support managers (and superusers); other accounts get a 403."""

    message = "Only agents and support managers may work conversations."

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user)


# Contacts and teams -----------------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(request=ContactWriteSerializer, responses={201: ContactSerializer}),
    update=extend_schema(request=ContactWriteSerializer, responses=ContactSerializer),
    partial_update=extend_schema(request=ContactWriteSerializer, responses=ContactSerializer),
)
class ContactViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Contacts; PATCH merges `attributes` key by key and a key set to null is removed. Contacts are not deleted."""

    queryset = Contact.objects.order_by("name", "id")
    permission_classes = [IsSupportAgent]
    filterset_class = ContactFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self):
        return ContactSerializer if self.action in READ_ACTIONS else ContactWriteSerializer

    def perform_create(self, serializer) -> None:
        serializer.instance = services.contact_create(**serializer.validated_data)

    def perform_update(self, serializer) -> None:
        fields = dict(serializer.validated_data)
        attributes = fields.pop("attributes", None)
        contact = serializer.instance
        if attributes is not None and not serializer.partial:
            # PUT replaces the whole object: keys it leaves out are removed.
            attributes = {**{key: None for key in contact.attributes or {}}, **attributes}
        serializer.instance = services.contact_update(contact=contact, attributes_patch=attributes, **fields)


class TeamViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Teams: every agent reads them, support managers create, rename and delete them."""

    queryset = Team.objects.prefetch_related("agents").order_by("name")
    serializer_class = TeamSerializer

    def get_permissions(self):
        if self.action in (*READ_ACTIONS, "queue"):
            return [IsSupportAgent()]
        return [IsSupportManager()]

    def perform_create(self, serializer) -> None:
        serializer.instance = services.team_create(**serializer.validated_data)

    def perform_update(self, serializer) -> None:
        services.team_update(team=serializer.instance, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance: Team) -> None:
        services.team_delete(team=instance)

    @extend_schema(responses=ConversationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def queue(self, request: Request, pk=None) -> Response:
        """The team's waiting conversations in the order the queue takes them (docs/routing.md), paginated."""
        team = self.get_object()
        queryset = waiting_conversations(team).prefetch_related(*ConversationSerializer.prefetch_lookups)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ConversationSerializer(page, many=True).data)


# Conversations ----------------------------------------------------------------------------------------------


def conversation_queryset() -> QuerySet:
    """Conversations with everything the read serializer touches loaded up front (constant queries per page)."""
    return Conversation.objects.prefetch_related(*ConversationSerializer.prefetch_lookups)


def _apply_assignment(conversation: Conversation, changes: dict, actor) -> None:
    assignment = {key: changes[key] for key in ("assignee", "team") if key in changes}
    if assignment:
        services.conversation_assign(conversation=conversation, actor=actor, **assignment)


# The order matters: a final disposition closes the conversation, so it comes after an explicit status change.
CONVERSATION_CHANGES: list[tuple[str, Callable[..., Any]]] = [
    (
        "required_skills",
        lambda c, value, actor: services.conversation_set_required_skills(conversation=c, skills=value),
    ),
    ("priority", lambda c, value, actor: services.conversation_set_priority(conversation=c, priority=value)),
    ("tags", lambda c, value, actor: services.conversation_set_tags(conversation=c, tags=value)),
    ("fields", lambda c, value, actor: services.conversation_set_fields(conversation=c, fields=value, actor=actor)),
    ("status", lambda c, value, actor: services.conversation_change_status(conversation=c, status=value, actor=actor)),
    (
        "disposition",
        lambda c, value, actor: services.conversation_set_disposition(conversation=c, disposition=value, actor=actor),
    ),
]


@extend_schema_view(
    create=extend_schema(request=ConversationCreateSerializer, responses={201: ConversationSerializer}),
    partial_update=extend_schema(request=ConversationUpdateSerializer, responses=ConversationSerializer),
)
class ConversationViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """Conversations: open (POST), read, filter and work them (PATCH). They are closed, never deleted."""

    permission_classes = [IsSupportAgent]
    filterset_class = ConversationFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return conversation_queryset()

    def get_serializer_class(self):
        if self.action == "create":
            return ConversationCreateSerializer
        if self.action == "partial_update":
            return ConversationUpdateSerializer
        return ConversationSerializer

    # The list page is read as rows (conversations.api.rows): the same JSON as the serializer's, a fraction of the cost.
    list_from_rows = True

    def list(self, request: Request, *args, **kwargs) -> Response:
        """The page from `values()` and one narrow query per related column; filters only when the query asks."""
        renderer = conversation_rows(ConversationSerializer, ConversationSerializer.page_loaders)
        if not self.list_from_rows or renderer is None:
            return super().list(request, *args, **kwargs)
        queryset = self.get_queryset().prefetch_related(None)  # whatever get_queryset restricts, without instances
        if set(request.query_params) - PAGE_PARAMETERS:
            queryset = self.filter_queryset(queryset)
        page = self.paginate_queryset(page_rows(queryset, renderer))
        return self.get_paginated_response(renderer.render(page))

    def perform_create(self, serializer) -> None:
        conversation = services.conversation_open(**serializer.validated_data)
        if conversation.team is not None and conversation.team.auto_assign:
            # the team's queue ran after the commit and may have assigned it already: answer with that
            conversation.refresh_from_db(fields=["assignee", "assigned_at", "queued_since"])
        serializer.instance = conversation

    def perform_update(self, serializer) -> None:
        conversation, changes = serializer.instance, serializer.validated_data
        with transaction.atomic():
            _apply_assignment(conversation, changes, self.request.user)
            for key, apply in CONVERSATION_CHANGES:
                if key in changes:
                    apply(conversation, changes[key], self.request.user)
        serializer.instance = self.get_queryset().get(pk=conversation.pk)


CONVERSATION_ID = OpenApiParameter(
    "conversation_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("The conversation's id.")
)


class ConversationChildViewSet(
    HelpdeskAPIMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Rows that belong to one conversation, under `conversations/{id}/...`; an unknown id is a 404."""

    permission_classes = [IsSupportAgent]
    model: type = Message

    def get_conversation(self) -> Conversation:
        if not hasattr(self, "_conversation"):
            self._conversation = get_object_or_404(Conversation.objects.all(), pk=self.kwargs["conversation_pk"])
        return self._conversation

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.model.objects.filter(conversation=self.get_conversation())


@extend_schema(parameters=[CONVERSATION_ID])
# The view also reads multipart (for files), but the schema names one body type per operation: client generators
# such as openapi-python-client 0.29 write uncompilable code for an operation with two (tests/packaging/
# test_generated_client.py).
@extend_schema_view(
    create=extend_schema(request={"application/json": MessageCreateSerializer}, responses={201: MessageSerializer})
)
class MessageViewSet(ConversationChildViewSet):
    """The messages of a conversation, oldest first. An agent's message is authored by the requesting user."""

    model = Message
    parser_classes = [SafeJSONParser, MultiPartParser]  # JSON, or multipart when files travel with the message

    def get_queryset(self) -> QuerySet:
        return (
            super()
            .get_queryset()
            .select_related(*MESSAGE_SELECT)
            .prefetch_related(*MESSAGE_PREFETCH)
            .order_by("created_at", "id")
        )

    def get_serializer_class(self):
        return MessageCreateSerializer if self.action == "create" else MessageSerializer

    def perform_create(self, serializer) -> None:
        """`message_create` locks and loads the conversation anyway, so it gets only the id (one read fewer); an
        unknown id is still a 404, and still wins over the service's own 400s."""
        data = dict(serializer.validated_data)
        author = self.request.user if data["sender_type"] == SenderType.AGENT else None
        try:
            conversation = services.conversation_ref(self.kwargs["conversation_pk"])
        except ValueError as exc:
            raise Http404 from exc
        try:
            serializer.instance = services.message_create(conversation=conversation, author=author, **data)
        except Conversation.DoesNotExist as exc:
            raise Http404 from exc
        except DjangoValidationError:
            self.get_conversation()  # a 404 for an unknown conversation comes before the body's errors
            raise


@extend_schema(parameters=[CONVERSATION_ID])
class RecordingViewSet(ConversationChildViewSet):
    """The audio recordings of a conversation; upload one as multipart `file`."""

    model = Recording
    serializer_class = RecordingSerializer
    parser_classes = [MultiPartParser]  # a file travels: multipart only

    def perform_create(self, serializer) -> None:
        serializer.instance = services.recording_attach(
            conversation=self.get_conversation(), file=serializer.validated_data["file"]
        )


# Tickets and surveys ----------------------------------------------------------------------------------------


class TicketViewSet(HelpdeskAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Tickets made by workflows' `create_ticket` step; filter with `?conversation=<id>`."""

    queryset = Ticket.objects.order_by("-created_at", "-id")
    serializer_class = TicketSerializer
    permission_classes = [IsSupportAgent]
    filterset_class = TicketFilter


class SurveyAnswerView(HelpdeskAPIMixin, APIView):
    """Public: the contact answers a CSAT survey once, by its token (no login; the token is the secret)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [HelpdeskAnonThrottle]  # public: per address, stricter than signed-in callers

    @extend_schema(request=SurveyAnswerSerializer, responses={200: SurveyResultSerializer}, auth=[])
    def post(self, request: Request, token: str) -> Response:
        survey = get_object_or_404(Survey.objects.all(), token=token)
        serializer = SurveyAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answered = services.survey_answer(survey=survey, **serializer.validated_data)
        return Response(SurveyResultSerializer(answered).data, status=status.HTTP_200_OK)

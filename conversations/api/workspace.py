"""API of the agent's workspace (docs/agent_day.md): saved views with counts, snooze, merge, links, presence and the
notification list. Thin views over `conversations.services`; snooze, merge and links answer 200 with the changed
conversation as `GET /api/conversations/{id}/` shows it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations import services
from conversations.api.base import HelpdeskAPIMixin
from conversations.api.serializers import ConversationSerializer, StrictFieldsMixin, StrictPrimaryKeyField
from conversations.api.views import CONVERSATION_ID, IsSupportAgent, conversation_queryset
from conversations.models import Conversation, LinkKind, Notification, PresenceState, SavedView
from conversations.services import views as saved_views


def _denied(exc: DjangoPermissionDenied) -> exceptions.PermissionDenied:
    return exceptions.PermissionDenied(str(exc) or None)


# Saved views ------------------------------------------------------------------------------------------------------


class SavedViewSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """`{"name", "filters": {"status": "open"}, "shared_with": "me" | "team:<id>" | "everyone"}`; reads add
    `count` (conversations the view lists now), `owner` and `editable`."""

    filters = serializers.JSONField(
        required=False, default=dict, help_text=_("§8 list filters as query keys with string values.")
    )
    shared_with = serializers.CharField(
        required=False,
        default="me",
        max_length=30,
        help_text=_('"me", "team:<id>" or "everyone" (sharing: managers only).'),
    )
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    count = serializers.SerializerMethodField()
    editable = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = ["id", "name", "filters", "shared_with", "owner", "count", "editable", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "count", "editable", "created_at", "updated_at"]

    def get_count(self, view: SavedView) -> int | None:
        counts = self.context.get("counts")
        if counts is None:
            counts = saved_views.view_counts([view])
        return counts.get(view.pk)

    def get_editable(self, view: SavedView) -> bool:
        return saved_views.can_edit(self.context["request"].user, view)


class SavedViewViewSet(HelpdeskAPIMixin, viewsets.ModelViewSet):
    """The views the requesting user can see, each with its `count` (one query counts a whole page)."""

    serializer_class = SavedViewSerializer
    permission_classes = [IsSupportAgent]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SavedView.objects.none()
        return saved_views.views_visible_to(self.request.user).select_related("owner")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        counts = saved_views.view_counts(page)
        data = SavedViewSerializer(page, many=True, context={**self.get_serializer_context(), "counts": counts}).data
        return self.get_paginated_response(data)

    def perform_create(self, serializer) -> None:
        try:
            serializer.instance = saved_views.saved_view_create(owner=self.request.user, **serializer.validated_data)
        except DjangoPermissionDenied as exc:
            raise _denied(exc) from exc

    def perform_update(self, serializer) -> None:
        changes = {key: value for key, value in serializer.validated_data.items() if key in serializer.initial_data}
        try:
            serializer.instance = saved_views.saved_view_update(
                view=serializer.instance, user=self.request.user, **changes
            )
        except DjangoPermissionDenied as exc:
            raise _denied(exc) from exc

    def perform_destroy(self, instance: SavedView) -> None:
        try:
            saved_views.saved_view_delete(view=instance, user=self.request.user)
        except DjangoPermissionDenied as exc:
            raise _denied(exc) from exc


# Snooze, merge, links ---------------------------------------------------------------------------------------------


OTHER_ID = OpenApiParameter(
    "other_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("The linked conversation's id.")
)


@extend_schema(parameters=[CONVERSATION_ID])
class ConversationActionView(HelpdeskAPIMixin, APIView):
    """A POST on one conversation (`conversations/{id}/<action>/`); an unknown id is a 404."""

    permission_classes = [IsSupportAgent]
    queryset = Conversation.objects.none()  # for the schema generator only; every view loads its conversation

    def conversation(self, pk: Any) -> Conversation:
        if not str(pk).isdigit() or len(str(pk)) > 18:
            raise Http404
        return get_object_or_404(Conversation.objects.select_related("contact"), pk=int(pk))

    def answer(self, conversation: Conversation, **extra: Any) -> Response:
        fresh = conversation_queryset().get(pk=conversation.pk)
        return Response({**ConversationSerializer(fresh, context={"request": self.request}).data, **extra})


class SnoozeSerializer(StrictFieldsMixin, serializers.Serializer):
    until = serializers.DateTimeField(help_text=_("ISO 8601 with a time zone, in the future."))


@extend_schema(parameters=[CONVERSATION_ID])
class SnoozeView(ConversationActionView):
    """Snooze: `pending` with `snoozed_until` until then or until the customer writes; then `open` again."""

    @extend_schema(request=SnoozeSerializer, responses=ConversationSerializer)
    def post(self, request: Request, conversation_pk: str) -> Response:
        conversation = self.conversation(conversation_pk)
        body = SnoozeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.conversation_snooze(conversation=conversation, until=body.validated_data["until"], actor=request.user)
        return self.answer(conversation)


class MergeSerializer(StrictFieldsMixin, serializers.Serializer):
    into = StrictPrimaryKeyField(queryset=Conversation.objects.all(), help_text=_("The target conversation's id."))


@extend_schema(parameters=[CONVERSATION_ID])
class MergeView(ConversationActionView):
    """Merge this conversation into `into`: 200 with this (now closed) conversation, `merged_into` set."""

    @extend_schema(request=MergeSerializer, responses=ConversationSerializer)
    def post(self, request: Request, conversation_pk: str) -> Response:
        source = self.conversation(conversation_pk)
        body = MergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.conversation_merge(source=source, target=body.validated_data["into"], actor=request.user)
        return self.answer(source)


class LinkSerializer(StrictFieldsMixin, serializers.Serializer):
    conversation = StrictPrimaryKeyField(
        queryset=Conversation.objects.all(), help_text=_("The other conversation's id.")
    )
    # Text checked against LinkKind rather than a ChoiceField: the schema already has another enum named `kind`.
    kind = serializers.CharField(
        required=False,
        max_length=10,
        help_text=_('What the other conversation is to this one: "parent", "child" or "related".'),
    )

    def validate_kind(self, value: str) -> str:
        if value not in LinkKind.values:
            raise serializers.ValidationError(_("Use one of: %(value0)s.") % {"value0": ", ".join(LinkKind.values)})
        return value


class LinkReadSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    kind = serializers.CharField(help_text=_('"parent", "child" or "related": what that conversation is to this one.'))
    subject = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


@extend_schema(parameters=[CONVERSATION_ID])
class LinksView(ConversationActionView):
    """`GET` the conversation's links; `POST {"conversation", "kind"}` adds one (200 with the conversation and its
    `links`); `DELETE` with `{"conversation"}` (or `links/<other id>/`) removes one."""

    pagination_class = None  # the answer is the list of links itself, as the POST and DELETE answers carry it

    @extend_schema(responses=LinkReadSerializer(many=True))
    def get(self, request: Request, conversation_pk: str) -> Response:
        conversation = self.conversation(conversation_pk)
        return Response(LinkReadSerializer(services.links_of(conversation), many=True).data)

    @extend_schema(request=LinkSerializer, responses=ConversationSerializer)
    def post(self, request: Request, conversation_pk: str) -> Response:
        conversation = self.conversation(conversation_pk)
        body = LinkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "kind" not in body.validated_data:
            raise exceptions.ValidationError({"kind": [_("This field is required.")]})
        services.conversation_link(
            conversation=conversation,
            other=body.validated_data["conversation"],
            kind=body.validated_data["kind"],
            actor=request.user,
        )
        return self.answer(conversation, links=LinkReadSerializer(services.links_of(conversation), many=True).data)

    @extend_schema(request=LinkSerializer, responses=ConversationSerializer)
    def delete(self, request: Request, conversation_pk: str, other_pk: str | None = None) -> Response:
        conversation = self.conversation(conversation_pk)
        if other_pk is not None:
            other = self.conversation(other_pk)
        else:
            body = LinkSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            other = body.validated_data["conversation"]
        services.conversation_unlink(conversation=conversation, other=other, actor=request.user)
        return self.answer(conversation, links=LinkReadSerializer(services.links_of(conversation), many=True).data)


@extend_schema(parameters=[CONVERSATION_ID, OTHER_ID])
class LinkView(LinksView):
    """`DELETE conversations/{id}/links/{other id}/` removes that link."""

    http_method_names = ["delete", "options"]

    @extend_schema(request=None, responses=ConversationSerializer, operation_id="conversations_link_destroy")
    def delete(self, request: Request, conversation_pk: str, other_pk: str | None = None) -> Response:
        return super().delete(request, conversation_pk, other_pk)


# Presence ---------------------------------------------------------------------------------------------------------


class PresenceSerializer(StrictFieldsMixin, serializers.Serializer):
    state = serializers.ChoiceField(choices=PresenceState.choices)


class PresenceRowSerializer(serializers.Serializer):
    """One person seen on the conversation in the last 30 s (the schema of the presence answers)."""

    user = serializers.IntegerField()
    username = serializers.CharField()
    state = serializers.ChoiceField(choices=PresenceState.choices)
    seen_at = serializers.DateTimeField()


def presence_rows(conversation: Conversation) -> list[dict]:
    return [
        {"user": p.user_id, "username": p.user.get_username(), "state": p.state, "seen_at": p.seen_at}
        for p in services.present_on(conversation)
    ]


@extend_schema(parameters=[CONVERSATION_ID])
class PresenceView(ConversationActionView):
    """A heartbeat (`POST {"state": "viewing" | "replying"}`) and who was seen in the last 30 s (`GET`, and the
    answer of the POST): `[{"user", "username", "state", "seen_at"}]`, the caller included."""

    pagination_class = None  # a handful of people at most: the answer is the list itself

    @extend_schema(responses=PresenceRowSerializer(many=True))
    def get(self, request: Request, conversation_pk: str) -> Response:
        return Response(presence_rows(self.conversation(conversation_pk)))

    @extend_schema(request=PresenceSerializer, responses=PresenceRowSerializer(many=True))
    def post(self, request: Request, conversation_pk: str) -> Response:
        conversation = self.conversation(conversation_pk)
        body = PresenceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.presence_beat(conversation=conversation, user=request.user, state=body.validated_data["state"])
        return Response(presence_rows(conversation))


# Notifications ----------------------------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "conversation", "message", "actor", "text", "created_at", "read_at", "read"]
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationViewSet(HelpdeskAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The requesting user's notifications (mentions), newest first; the list adds `unread`. `?unread=true` for
    the unread ones; `POST {id}/read/` and `POST read-all/` mark them read."""

    serializer_class = NotificationSerializer
    permission_classes = [IsSupportAgent]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        queryset = Notification.objects.filter(user=self.request.user).select_related("actor")
        if self.request.query_params.get("unread") == "true":
            queryset = queryset.filter(read_at__isnull=True)
        return queryset.order_by("-created_at", "-id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        response.data["unread"] = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
        return response

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        services.notifications_mark_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": services.notifications_mark_read(user=request.user)})

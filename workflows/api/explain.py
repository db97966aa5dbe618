"""`GET /api/conversations/{id}/events/` and `GET /api/events/{id}/explain/` (docs/managers.md): thin views over
`workflows.engine.explain`, with the serializers that describe their shapes for the OpenAPI schema."""

from __future__ import annotations

import uuid

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.base import HelpdeskAPIMixin, IsSupportManager, StandardPagination
from conversations.models import Conversation, Event
from workflows.engine import explain


class EventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    depth = serializers.IntegerField()
    payload = serializers.DictField()
    dispatched_at = serializers.DateTimeField(allow_null=True)
    runs = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the runs the event started.")


class ConditionStepSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="0-based position of the condition step in the run.")
    path = serializers.CharField(help_text='Where the step is: "2", or "2.1.0" inside a branch (docs/managers.md).')
    type = serializers.CharField()
    checks = serializers.ListField(child=serializers.DictField(), help_text="The checks that were false.")


class ExplainedWorkflowSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField(help_text="The version live when the event was dispatched (or the run's).")
    outcome = serializers.ChoiceField(choices=explain.Outcome.ALL)
    reason = serializers.CharField()
    run = serializers.IntegerField(required=False, help_text="started, stopped_at_condition")
    run_status = serializers.CharField(required=False)
    key = serializers.CharField(required=False, help_text="filtered_out: the filter key that failed")
    status = serializers.CharField(required=False, help_text="not_active: the workflow's status then")
    stopped_by = serializers.IntegerField(required=False, help_text="stopped_by_earlier: the workflow that stopped it")
    step = ConditionStepSerializer(required=False, help_text="stopped_at_condition: the condition step")


class ExplainSerializer(serializers.Serializer):
    event = EventSerializer()
    workflows = ExplainedWorkflowSerializer(many=True)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "conversation_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The conversation's id."
        )
    ]
)
class ConversationEventsView(HelpdeskAPIMixin, generics.ListAPIView):
    """A conversation's events, newest first, with the runs each started."""

    permission_classes = [IsSupportManager]
    pagination_class = StandardPagination
    serializer_class = EventSerializer
    queryset = Event.objects.none()  # for the schema; the list is `get_queryset`'s

    def get_queryset(self):
        conversation = get_object_or_404(Conversation, pk=_whole_number(self.kwargs["conversation_pk"]))
        return explain.conversation_events(conversation.pk)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        runs = explain.runs_by_event(page)
        return self.get_paginated_response(
            EventSerializer([explain.event_data(event, runs[event.pk]) for event in page], many=True).data
        )


class EventExplainView(HelpdeskAPIMixin, APIView):
    """Why each workflow of the event's trigger type did or did not start for it."""

    permission_classes = [IsSupportManager]

    @extend_schema(
        responses=ExplainSerializer,
        parameters=[
            OpenApiParameter("event_pk", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The event's id.")
        ],
    )
    def get(self, request: Request, event_pk: str) -> Response:
        event = get_object_or_404(Event, pk=_uuid(event_pk))
        return Response(ExplainSerializer(explain.explain_event(event)).data)


def _whole_number(raw: str) -> int:
    """A path id that is not a whole number in range names nothing: 404, not 500."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return 0
    return int(raw)


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None

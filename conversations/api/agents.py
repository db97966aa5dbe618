"""The routing face of the API (docs/routing.md): agents (status, capacity, skills, teams) and a team's queue.

`GET /api/agents/` lists agents with their open load; `PATCH /api/agents/{id}/` (the user's id) changes them through
`conversations.routing.agents.agent_update`: support managers may change anything, an agent only their own
`status` (anything else is a 403). `GET /api/teams/{id}/queue/` lists the waiting conversations in take order.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from conversations import services
from conversations.api.base import HelpdeskAPIMixin
from conversations.api.serializers import StrictFieldsMixin
from conversations.choices import AgentStatus
from conversations.models import AgentProfile, Team
from conversations.roles import is_agent, is_manager
from conversations.routing.state import WAITING_STATUSES

User = get_user_model()


class AgentSerializer(serializers.ModelSerializer):
    """An agent as routing sees them; `id` is the user's id."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.SerializerMethodField()
    teams = serializers.SerializerMethodField()
    skills = serializers.ListField(child=serializers.CharField(), read_only=True)
    open_conversations = serializers.IntegerField(read_only=True, help_text=_("Assigned conversations new or open."))

    class Meta:
        model = AgentProfile
        fields = ["id", "username", "name", "teams", "status", "capacity", "skills", "open_conversations"]
        read_only_fields = fields

    def get_name(self, profile: AgentProfile) -> str:
        return profile.user.get_full_name() or profile.user.get_username()

    def get_teams(self, profile: AgentProfile) -> list[int]:
        return [team.pk for team in profile.teams.all()]


class AgentUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    """PATCH body of an agent: any subset of status, capacity, skills and teams."""

    status = serializers.ChoiceField(choices=AgentStatus.choices, required=False)
    capacity = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    skills = serializers.ListField(child=serializers.CharField(max_length=50), max_length=50, required=False)
    teams = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), many=True, required=False)

    def to_representation(self, instance: AgentProfile) -> dict:
        return AgentSerializer(instance, context=self.context).data


def agent_queryset() -> QuerySet:
    """Agent profiles with their open load, user and teams loaded (constant queries per page)."""
    return (
        AgentProfile.objects.select_related("user")
        .prefetch_related("teams")
        .annotate(
            open_conversations=Count(
                "user__assigned_conversations",
                distinct=True,
                filter=Q(user__assigned_conversations__status__in=WAITING_STATUSES),
            )
        )
        .order_by("user__username")
    )


class IsAgentOrManager(permissions.BasePermission):
    """Agents and support managers read agents; what a PATCH may change is checked in the view."""

    message = "Only agents and support managers may see agents."

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user)


@extend_schema_view(partial_update=extend_schema(request=AgentUpdateSerializer, responses=AgentSerializer))
class AgentViewSet(
    HelpdeskAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Agents: everyone who works conversations reads them; managers change them, an agent their own status."""

    permission_classes = [IsAgentOrManager]
    lookup_field = "user_id"
    lookup_value_regex = r"[^/.]+"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return agent_queryset()

    def get_object(self) -> AgentProfile:
        """The agent's profile; a user of the agents or managers group who has none yet gets one (starting
        `offline`, docs/routing.md), so a new agent is set up with one PATCH."""
        user_id = str(self.kwargs.get("user_id", ""))
        if not user_id.isdigit() or len(user_id) > 18:
            raise Http404
        user = User.objects.filter(pk=int(user_id)).first()
        if user is not None and is_agent(user) and not AgentProfile.objects.filter(user=user).exists():
            AgentProfile.objects.get_or_create(user=user)
        return super().get_object()

    def get_serializer_class(self):
        return AgentUpdateSerializer if self.action == "partial_update" else AgentSerializer

    def _check_may_change(self, profile: AgentProfile, data: dict) -> None:
        if is_manager(self.request.user):
            return
        if profile.user_id != self.request.user.pk or set(data) - {"status"}:
            raise PermissionDenied(_("An agent may change only their own status; the rest is for support managers."))

    def perform_update(self, serializer) -> None:
        profile = serializer.instance
        data = dict(serializer.validated_data)
        services.agent_update(profile=profile, **data)
        serializer.instance = self.get_queryset().get(pk=profile.pk)

    def update(self, request, *args, **kwargs):
        profile = self.get_object()
        if isinstance(request.data, dict):
            self._check_may_change(profile, request.data)  # a 403 comes before any 400 of the body
        return super().update(request, *args, **kwargs)

"""Saved views (docs/agent_day.md): named conversation-list filters, personal or shared with a team or everyone, and their
counts for a whole page in one query.

A view's `filters` are the §8 list filters as query keys with string values, read by the same FilterSet the
conversations API uses, so a view shows exactly what `GET /api/conversations/?<filters>` lists.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from conversations.api.filters import ConversationFilter
from conversations.models import Conversation, SavedView, Team, ViewScope
from conversations.roles import is_manager

MAX_FILTERS = 30


def parse_shared_with(value: Any) -> tuple[str, Team | None]:
    """`me`, `everyone` or `team:<id>` as (scope, team); anything else is a 400 on `shared_with`."""
    if value in (ViewScope.ME, ViewScope.EVERYONE):
        return str(value), None
    if isinstance(value, str) and value.startswith("team:") and value[5:].isdigit() and len(value) < 30:
        team = Team.objects.filter(pk=int(value[5:])).first()
        if team is None:
            raise ValidationError({"shared_with": _("No team with id %(value_5)s.") % {"value_5": value[5:]}})
        return ViewScope.TEAM, team
    raise ValidationError({"shared_with": _('Use "me", "team:<id>" or "everyone".')})


def filterset_for(filters: dict[str, str], queryset: QuerySet | None = None) -> ConversationFilter:
    """The conversations API's FilterSet over a view's filters."""
    data = QueryDict(mutable=True)
    for key, value in filters.items():
        data[key] = value
    return ConversationFilter(data=data, queryset=queryset if queryset is not None else Conversation.objects.all())


def clean_filters(filters: Any) -> dict[str, str]:
    """Known filter keys with string values that the FilterSet accepts; errors are named `filters.<key>`."""
    if not isinstance(filters, dict):
        raise ValidationError({"filters": _('Filters are an object of query keys, e.g. {"status": "open"}.')})
    if len(filters) > MAX_FILTERS:
        raise ValidationError({"filters": _("Give at most %(MAX_FILTERS)s filters.") % {"MAX_FILTERS": MAX_FILTERS}})
    known = set(ConversationFilter.base_filters)
    errors = {f"filters.{key}": ["Unknown filter."] for key in filters if key not in known}
    errors.update(
        {
            f"filters.{key}": ["Give the value as a string."]
            for key, value in filters.items()
            if key in known and not isinstance(value, str)
        }
    )
    if errors:
        raise ValidationError(errors)
    filterset = filterset_for(filters)
    if not filterset.is_valid():
        raise ValidationError({f"filters.{key}": list(messages) for key, messages in filterset.errors.items()})
    return {key: value for key, value in filters.items()}


def _check_sharing(user, scope: str) -> None:
    if scope != ViewScope.ME and not is_manager(user):
        raise PermissionDenied(_("Only support managers share views; an agent's views are their own."))


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": _("A view needs a name.")})
    if len(name.strip()) > 100:
        raise ValidationError({"name": _("A name has at most 100 characters.")})
    return name.strip()


def saved_view_create(*, owner, name: str, filters: Any, shared_with: Any = ViewScope.ME) -> SavedView:
    """Save a view; only managers share one with a team or everyone (a PermissionDenied otherwise)."""
    scope, team = parse_shared_with(shared_with)
    _check_sharing(owner, scope)
    return SavedView.objects.create(
        owner=owner, name=_clean_name(name), filters=clean_filters(filters), scope=scope, team=team
    )


def saved_view_update(*, view: SavedView, user, **changes: Any) -> SavedView:
    """Change a view's name, filters or sharing (its owner, or a manager for shared views)."""
    if not can_edit(user, view):
        raise PermissionDenied(_("Only the view's owner or a support manager may change it."))
    if "name" in changes:
        view.name = _clean_name(changes["name"])
    if "filters" in changes:
        view.filters = clean_filters(changes["filters"])
    if "shared_with" in changes:
        view.scope, view.team = parse_shared_with(changes["shared_with"])
        _check_sharing(user, view.scope)
    view.save()
    return view


def saved_view_delete(*, view: SavedView, user) -> None:
    if not can_edit(user, view):
        raise PermissionDenied(_("Only the view's owner or a support manager may delete it."))
    view.delete()


def can_edit(user, view: SavedView) -> bool:
    return view.owner_id == user.pk or (view.scope != ViewScope.ME and is_manager(user))


def views_visible_to(user) -> QuerySet:
    """The user's own views, views shared with everyone and with a team of theirs (managers: every shared view)."""
    shared = Q(scope=ViewScope.EVERYONE) | Q(scope=ViewScope.TEAM, team__agents__user=user)
    if is_manager(user):
        shared = ~Q(scope=ViewScope.ME)
    return SavedView.objects.filter(Q(owner=user) | shared).distinct().order_by("name", "id")


def view_counts(views: list[SavedView], queryset: QuerySet | None = None) -> dict[int, int]:
    """How many conversations each view lists, for all the views in ONE aggregate query (a conditional count each).
    A view whose stored filters no longer validate counts 0."""
    base = queryset if queryset is not None else Conversation.objects.all()
    aggregates = {}
    for view in views:
        filterset = filterset_for(view.filters or {}, Conversation.objects.all())
        if filterset.is_valid():
            aggregates[f"v{view.pk}"] = Count("pk", filter=Q(pk__in=filterset.qs.values("pk")))
    counts = base.aggregate(**aggregates) if aggregates else {}
    return {view.pk: counts.get(f"v{view.pk}", 0) for view in views}

"""SLA policies: validating their values, saving them, and choosing the policy that applies to a conversation.

Selection is one query: the active policies' match conditions become `When` branches of a `Case` in position
order, so the database returns the id of the first policy whose condition the conversation meets.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _

from conversations.compiled import CompiledGet
from conversations.models import Conversation
from sla.calendars import Calendar, build_calendar
from sla.matching import compile_condition
from sla.models import BusinessHours, Metric, SlaPolicy
from sla.validation import validate_targets


def sla_policy_save(*, policy: SlaPolicy | None = None, **values: Any) -> SlaPolicy:
    """Create or update a policy from API-shaped values (`targets` as a dict). Existing targets keep their times."""
    policy = policy or SlaPolicy()
    targets = values.pop("targets", None)
    if targets is not None:
        cleaned = validate_targets(targets)
        for metric in Metric.values:
            setattr(policy, f"{metric}_minutes", cleaned.get(metric))
    for key, value in values.items():
        setattr(policy, key, value)
    if policy.match is None:
        policy.match = {}
    policy.full_clean()
    with transaction.atomic():
        policy.save()
    return policy


def business_hours_save(*, calendar: BusinessHours | None = None, **values: Any) -> BusinessHours:
    """Create or update a business-hours calendar after validating timezone, intervals and holidays."""
    calendar = calendar or BusinessHours()
    for key, value in values.items():
        setattr(calendar, key, value)
    calendar.full_clean()
    calendar.save()
    return calendar


def business_hours_delete(*, calendar: BusinessHours) -> None:
    """Delete a calendar no policy uses; one in use is refused with the policies that need it."""
    users = list(calendar.policies.values_list("name", flat=True))
    if users:
        raise ValidationError(
            {"business_hours": _("In use by the SLA policies: %(value0)s.") % {"value0": ", ".join(users)}}
        )
    calendar.delete()


# `SlaPolicy.objects.filter(active=True).select_related("business_hours")`, compiled once per process: every new
# conversation reads it, and with no policy set up that read is all the SLA app does for it.
_ACTIVE_POLICIES = CompiledGet(SlaPolicy, related=("business_hours",), where=(("active", True),))


def select_policy(conversation: Conversation) -> SlaPolicy | None:
    """The first active policy (by position) whose match condition the conversation meets, or None."""
    policies = {policy.pk: policy for policy in _ACTIVE_POLICIES.all()}
    if not policies:
        return None
    # An empty condition matches everything; When() needs a real expression for that.
    branches = [
        When(compile_condition(policy.match) or Q(pk__isnull=False), then=Value(pk)) for pk, policy in policies.items()
    ]
    chosen = (
        Conversation.objects.filter(pk=conversation.pk)
        .annotate(sla_policy_id=Case(*branches, default=None, output_field=IntegerField()))
        .values_list("sla_policy_id", flat=True)
        .first()
    )
    return policies.get(chosen)


_calendar_cache: dict[tuple[int, Any], Calendar] = {}


def calendar_for(policy: SlaPolicy) -> Calendar | None:
    """The policy's business calendar (None: calendar time), cached per calendar version."""
    hours = policy.business_hours
    return None if hours is None else calendar_of(hours)


def calendar_of(hours: BusinessHours) -> Calendar:
    """A business-hours row as a Calendar, cached per calendar version (its `updated_at`)."""
    key = (hours.pk, hours.updated_at)
    if key not in _calendar_cache:
        _calendar_cache[key] = build_calendar(
            timezone=hours.timezone,
            intervals=hours.intervals,
            country=hours.holidays_country,
            subdivision=hours.holidays_subdivision,
            extra_dates=hours.extra_holidays,
        )
    return _calendar_cache[key]

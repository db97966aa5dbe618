"""SLA policies: validating their values, saving them, and choosing the policy that applies to a conversation.

Selection is one query: the active policies' match conditions become `When` branches of a `Case` in position
order, so the database returns the id of the first policy whose condition the conversation meets.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When

from conversations.compiled import CompiledGet
from conversations.models import Conversation
from sla.calendars import Calendar, build_calendar
from sla.matching import compile_condition, validate_condition
from sla.models import PAUSABLE_STATUSES, BusinessHours, Metric, SlaPolicy

MAX_TARGET_MINUTES = 366 * 24 * 60


def validate_targets(targets: Any) -> dict[str, int]:
    """`{"first_response": minutes, ...}`: known metrics, whole minutes from 1 to a year, at least one set."""
    if not isinstance(targets, dict):
        raise ValidationError({"targets": "Expected an object of minutes per metric."})
    unknown = set(targets) - set(Metric.values)
    if unknown:
        raise ValidationError({"targets": f"Unknown metric(s): {', '.join(sorted(unknown))}."})
    cleaned = {}
    for metric, minutes in targets.items():
        if minutes is None:
            continue
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise ValidationError({"targets": f"{metric}: a whole number of minutes from 1 to {MAX_TARGET_MINUTES}."})
        cleaned[metric] = minutes
    if not cleaned:
        raise ValidationError({"targets": "Set at least one target."})
    return cleaned


def validate_pause_on(pause_on: Any) -> list[str]:
    """Statuses that pause the clocks (resolved/closed stop them instead, so they are not allowed here)."""
    if not isinstance(pause_on, list) or not all(isinstance(item, str) for item in pause_on):
        raise ValidationError({"pause_on": "Expected a list of statuses."})
    bad = [item for item in pause_on if item not in PAUSABLE_STATUSES]
    if bad:
        raise ValidationError({"pause_on": f"Not pausable: {', '.join(bad)} (one of: {', '.join(PAUSABLE_STATUSES)})."})
    return list(dict.fromkeys(pause_on))


def validate_policy_values(*, match: Any, targets: Any, pause_on: Any, warning_percent: Any) -> None:
    """Validate everything of a policy but its name; errors are keyed by the API field names."""
    validate_condition(match)
    validate_targets(targets)
    validate_pause_on(pause_on)
    if warning_percent is not None and (
        isinstance(warning_percent, bool) or not isinstance(warning_percent, int) or not 1 <= warning_percent <= 99
    ):
        raise ValidationError({"warning_percent": "A whole percentage from 1 to 99, or null for no warning."})


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
        raise ValidationError({"business_hours": f"In use by the SLA policies: {', '.join(users)}."})
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
    branches = [When(compile_condition(policy.match) or Q(pk__isnull=False), then=Value(pk))
                for pk, policy in policies.items()]
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
            timezone=hours.timezone, intervals=hours.intervals, country=hours.holidays_country,
            subdivision=hours.holidays_subdivision, extra_dates=hours.extra_holidays,
        )
    return _calendar_cache[key]

"""A person's own preferences (today: the time zone admin shows times in). Reads and the one write."""
from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError

from conversations.models import UserPreference


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def time_zone_of(user) -> str:
    """The zone a person sees times in: their preference, else the site's TIME_ZONE."""
    chosen = UserPreference.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return chosen or settings.TIME_ZONE


def preference_save(*, user, time_zone: str) -> UserPreference:
    """Set a person's time zone ("" = the site's)."""
    if time_zone and time_zone not in time_zone_names():
        raise ValidationError({"time_zone": f'Unknown time zone "{time_zone}".'})
    preference, _ = UserPreference.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    return preference

"""A person's own preferences (the time zone admin shows times in, the language it speaks). Reads and the one
write."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from conversations.models import UserPreference


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def time_zone_of(user) -> str:
    """The zone a person sees times in: their preference, else the site's TIME_ZONE."""
    return preferences_of(user)[0]


def preferences_of(user) -> tuple[str, str]:
    """(time zone, language) of a person in one read: the time zone falls back to the site's TIME_ZONE, the
    language to "" (the browser's, as LocaleMiddleware found it)."""
    row = UserPreference.objects.filter(user=user).values_list("time_zone", "language").first() or ("", "")
    return row[0] or settings.TIME_ZONE, row[1]


def language_codes() -> tuple[str, ...]:
    return tuple(code for code, _ in settings.LANGUAGES)


def preference_save(*, user, time_zone: str, language: str | None = None) -> UserPreference:
    """Set a person's time zone ("" = the site's) and, when given, language ("" = the browser's)."""
    if time_zone and time_zone not in time_zone_names():
        raise ValidationError({"time_zone": _('Unknown time zone "%(time_zone)s".') % {"time_zone": time_zone}})
    defaults = {"time_zone": time_zone}
    if language is not None:
        if language and language not in language_codes():
            raise ValidationError(
                {"language": _('"%(language)s" is not one of the languages offered.') % {"language": language}}
            )
        defaults["language"] = language
    preference, _created = UserPreference.objects.update_or_create(user=user, defaults=defaults)
    return preference

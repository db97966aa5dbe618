"""The report period: `since` / `until` dates, both included, in the requesting person's time zone, turned into the
half-open range of moments [start of `since`, start of the day after `until`) that conversations' creation falls in.

Midnight is taken in the zone itself (`zoneinfo`), so a day that DST makes 23 or 25 hours long keeps its real length.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations import clock
from conversations.preferences import time_zone_of

DEFAULT_DAYS = 30
MAX_DAYS = 731
MIN_YEAR, MAX_YEAR = 1970, 9000  # outside this a date is a typo, and date arithmetic near its limits overflows


@dataclass(frozen=True)
class Period:
    """Both days included, in `zone`; `start` / `end` are the aware moments bounding it (end excluded)."""

    since: dt.date
    until: dt.date
    zone: zoneinfo.ZoneInfo

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.since, self.zone)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.until + dt.timedelta(days=1), self.zone)


def local_midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first moment of `day` in `zone` (as an aware UTC datetime)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)


def parse_day(value: str | None, name: str) -> dt.date | None:
    """A `YYYY-MM-DD` date; empty is None; anything else a ValidationError naming the parameter."""
    if value in (None, ""):
        return None
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({name: _("Use a date like 2026-01-31.")}) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationError(
            {
                name: _("Use a date between %(MIN_YEAR)s and %(MAX_YEAR)s.")
                % {"MIN_YEAR": MIN_YEAR, "MAX_YEAR": MAX_YEAR}
            }
        )
    return day


def zone_of(user) -> zoneinfo.ZoneInfo:
    """The person's time zone (their preference, else the site's TIME_ZONE)."""
    return zoneinfo.ZoneInfo(
        time_zone_of(user) if getattr(user, "is_authenticated", False) else timezone.get_current_timezone_name()
    )


def period_for(*, user, since: str | None, until: str | None) -> Period:
    """The period a request asks for: `until` defaults to today and `since` to DEFAULT_DAYS before it (in the
    person's zone); since after until or a period over MAX_DAYS is a ValidationError naming `since`."""
    zone = zone_of(user)
    errors, days = {}, {}
    for name, value in (("since", since), ("until", until)):
        try:
            days[name] = parse_day(value, name)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    last = days["until"] or timezone.localdate(clock.now(), zone)
    first = days["since"] or last - dt.timedelta(days=DEFAULT_DAYS)
    if first > last:
        raise ValidationError({"since": _("since must be on or before until.")})
    if (last - first).days > MAX_DAYS:
        raise ValidationError({"since": _("The period is at most %(MAX_DAYS)s days.") % {"MAX_DAYS": MAX_DAYS}})
    return Period(since=first, until=last, zone=zone)

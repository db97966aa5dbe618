"""Business-time arithmetic over a business-hours calendar (docs/managers.md).

A calendar is a timezone, weekly open intervals in local wall time (several per day; an interval whose end is not
after its start runs overnight into the next day, "24:00" closes at midnight) and closed dates (one country's
public holidays from the `holidays` package plus custom dates). An interval belongs to the day it starts on, so a
holiday closes the overnight shift that starts on it, not the one that ends on it.

Everything is computed on real instants: each open interval is turned into a UTC window by localising its wall-time
boundaries, so a window that spans a DST change is one hour shorter or longer, as the clock on the wall says. A
boundary that does not exist (spring-forward gap) resolves past the gap (02:30 reads as 03:30 summer time); an
ambiguous one (fall back) to its first occurrence. `add_business_time` and `business_time_between` are inverse
of each other.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import holidays as holidays_lib
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MINUTES_PER_DAY = 24 * 60
# A calendar with no open time in this many consecutive days is treated as never open (protects the loops).
MAX_CLOSED_DAYS = 3 * 366
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")

Window = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Calendar:
    """An immutable business-hours calendar: `weekly[weekday]` holds (start, end) minutes from local midnight."""

    tz: zoneinfo.ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holiday_country: str = ""
    holiday_subdivision: str = ""
    extra_closed: frozenset[dt.date] = field(default_factory=frozenset)

    def is_closed_day(self, day: dt.date) -> bool:
        """A public holiday of the chosen country/subdivision or a custom closed date."""
        if day in self.extra_closed:
            return True
        return bool(self.holiday_country) and day in _country_holidays(self.holiday_country, self.holiday_subdivision)


@lru_cache(maxsize=64)
def _country_holidays(country: str, subdivision: str) -> holidays_lib.HolidayBase:
    # The holidays object fills in each year on first lookup; caching it keeps that work to once per process.
    return holidays_lib.country_holidays(country, subdiv=subdivision or None)


def holidays_for_year(
    country: str, subdivision: str, extra_dates: Iterable[str], year: int
) -> list[tuple[dt.date, str]]:
    """The closed dates of one year with their names, sorted (the admin preview)."""
    found: dict[dt.date, str] = {}
    if country:
        found.update(holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year).items())
    for raw in extra_dates:
        day = dt.date.fromisoformat(raw)
        if day.year == year:
            found.setdefault(day, "Custom closed date")
    return sorted(found.items())


# Validation (shared by the API serializers, the admin forms and the services) ---------------------------------


def validate_timezone(name: str) -> str:
    """An IANA timezone name such as "Europe/Berlin"."""
    if not isinstance(name, str) or name not in zoneinfo.available_timezones():
        raise ValidationError(
            {"timezone": _('"%(name)s" is not an IANA timezone name such as "Europe/Berlin".') % {"name": name}}
        )
    return name


def _parse_clock(value: object, key: str, position: int) -> int:
    if not isinstance(value, str) or not _TIME_RE.match(value):
        raise ValidationError(
            {
                "intervals": _('Interval %(position)s: "%(key)s" must be a time "HH:MM" (00:00 to 24:00).')
                % {"position": position, "key": key}
            }
        )
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def parse_interval(interval: object, position: int) -> tuple[int, int, int]:
    """Validate one `{"weekday", "start", "end"}` and return (weekday, start minute, end minute after start)."""
    if not isinstance(interval, dict) or set(interval) != {"weekday", "start", "end"}:
        raise ValidationError(
            {"intervals": _('Interval %(position)s: expected {"weekday", "start", "end"}.') % {"position": position}}
        )
    weekday = interval["weekday"]
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValidationError(
            {"intervals": _("Interval %(position)s: weekday is 0 (Monday) to 6 (Sunday).") % {"position": position}}
        )
    start = _parse_clock(interval["start"], "start", position)
    end = _parse_clock(interval["end"], "end", position)
    if start == MINUTES_PER_DAY:
        raise ValidationError(
            {"intervals": _("Interval %(position)s: an interval cannot start at 24:00.") % {"position": position}}
        )
    if end <= start:
        end += MINUTES_PER_DAY  # overnight: ends on the next day
    if end - start > MINUTES_PER_DAY:
        raise ValidationError(
            {"intervals": _("Interval %(position)s: an interval lasts at most 24 hours.") % {"position": position}}
        )
    return weekday, start, end


def validate_intervals(intervals: object) -> list[dict]:
    """A non-empty list of open intervals, none overlapping another on the same weekday."""
    if not isinstance(intervals, list) or not intervals:
        raise ValidationError({"intervals": _("At least one open interval is required.")})
    parsed = [parse_interval(item, position) for position, item in enumerate(intervals)]
    for weekday in range(7):
        spans = sorted((start, end) for day, start, end in parsed if day == weekday)
        for (_first_start, first_end), (second_start, _second_end) in zip(spans, spans[1:]):
            if second_start < first_end:
                raise ValidationError(
                    {"intervals": _("Intervals overlap on weekday %(weekday)s.") % {"weekday": weekday}}
                )
    return intervals


def validate_holidays(country: str, subdivision: str, extra_dates: object) -> None:
    """Country and subdivision known to the `holidays` package; custom dates are ISO dates."""
    supported = holidays_lib.list_supported_countries()
    if country and country not in supported:
        raise ValidationError(
            {"holidays_country": _('"%(country)s" is not a supported country code (e.g. "DE").') % {"country": country}}
        )
    if subdivision and not country:
        raise ValidationError({"holidays_subdivision": _("A subdivision needs a country.")})
    if subdivision and subdivision not in supported[country]:
        raise ValidationError(
            {
                "holidays_subdivision": _('"%(subdivision)s" is not a subdivision of %(country)s.')
                % {"subdivision": subdivision, "country": country}
            }
        )
    if not isinstance(extra_dates, list):
        raise ValidationError({"extra_holidays": _("Expected a list of dates (YYYY-MM-DD).")})
    for raw in extra_dates:
        try:
            dt.date.fromisoformat(raw)
        except (TypeError, ValueError):
            raise ValidationError(
                {"extra_holidays": _('"%(raw)s" is not a date (YYYY-MM-DD).') % {"raw": raw}}
            ) from None


def build_calendar(
    *, timezone: str, intervals: list[dict], country: str = "", subdivision: str = "", extra_dates: Iterable[str] = ()
) -> Calendar:
    """Make a Calendar from validated stored values."""
    weekly: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for position, item in enumerate(intervals):
        weekday, start, end = parse_interval(item, position)
        weekly[weekday].append((start, end))
    return Calendar(
        tz=zoneinfo.ZoneInfo(timezone),
        weekly=tuple(tuple(sorted(day)) for day in weekly),
        holiday_country=country or "",
        holiday_subdivision=subdivision or "",
        extra_closed=frozenset(dt.date.fromisoformat(raw) for raw in extra_dates),
    )


# Arithmetic ---------------------------------------------------------------------------------------------------


def _to_utc(calendar: Calendar, day: dt.date, minute: int) -> dt.datetime:
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    # fold=0 (PEP 495): a wall time in a spring-forward gap maps past the gap, an ambiguous one to its first instant.
    return wall.replace(tzinfo=calendar.tz, fold=0).astimezone(dt.UTC)


def _day_windows(calendar: Calendar, day: dt.date) -> list[Window]:
    if calendar.is_closed_day(day):
        return []
    intervals = calendar.weekly[day.weekday()]
    return [(_to_utc(calendar, day, start), _to_utc(calendar, day, end)) for start, end in intervals]


def open_windows(calendar: Calendar, since: dt.datetime) -> Iterator[Window]:
    """Open windows (UTC, in order, never overlapping) that end after `since`.

    Stops after MAX_CLOSED_DAYS days in a row without open time. Windows are clipped rather than merged where an
    overnight shift runs into the next day's hours, so a calendar open around the clock still yields day by day.
    """
    day = since.astimezone(calendar.tz).date() - dt.timedelta(days=1)  # yesterday's overnight shift may still run
    horizon = since
    closed_days = 0
    while closed_days < MAX_CLOSED_DAYS:
        closed_days += 1
        for start, end in _day_windows(calendar, day):
            start = max(start, horizon)
            if end > start:
                closed_days = 0
                horizon = end
                yield start, end
        day += dt.timedelta(days=1)


def add_business_time(calendar: Calendar, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
    """The instant when `duration` of open time has passed after `start`."""
    remaining = duration
    if remaining <= dt.timedelta(0):
        return start
    for window_start, window_end in open_windows(calendar, start):
        if window_start + remaining <= window_end:
            return window_start + remaining
        remaining -= window_end - window_start
    raise ValidationError({"business_hours": _("The calendar has no open time left (every day is closed).")})


def business_time_between(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Open time between two instants (zero when `end` is not after `start`)."""
    total = dt.timedelta(0)
    if end <= start:
        return total
    for window_start, window_end in open_windows(calendar, start):
        if window_start >= end:
            break
        total += min(window_end, end) - window_start
    return total


def clock_seconds_between(calendar: Calendar | None, start: dt.datetime, end: dt.datetime) -> float:
    """Seconds of an SLA clock between two instants: open time of the calendar, or plain time without one."""
    if calendar is None:
        return max((end - start).total_seconds(), 0.0)
    return business_time_between(calendar, start, end).total_seconds()


def add_business_minutes(calendar: Calendar, start: dt.datetime, minutes: float) -> dt.datetime:
    """`add_business_time` in minutes, the unit SLA targets are set in."""
    return add_business_time(calendar, start, dt.timedelta(minutes=minutes))


def business_minutes_between(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> float:
    """`business_time_between` in minutes."""
    return business_time_between(calendar, start, end) / dt.timedelta(minutes=1)


def is_open_at(calendar: Calendar, moment: dt.datetime) -> bool:
    """True when `moment` falls inside an open window (not on a closed day, inside a weekly interval)."""
    window = next(open_windows(calendar, moment), None)
    return window is not None and window[0] <= moment

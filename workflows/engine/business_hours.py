"""The `within_business_hours` / `outside_business_hours` condition operators: is a timestamp of the run context
(usually `event.occurred_at`, so a dry run or a replay asks about the event's own time, never "now") inside the
open hours of a business-hours calendar?

The condition value names the calendar by id or name, as every other reference in a step config. An empty value
means the default calendar: the first one by name, or Monday to Friday 09:00-17:00 in the site's `TIME_ZONE` when
none exists yet, so a gallery template works on a fresh install before any calendar is made.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from sla.calendars import Calendar, build_calendar, is_open_at
from sla.models import BusinessHours
from sla.policies import calendar_of

DEFAULT_INTERVALS = [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)]


def find_calendar(reference: Any) -> BusinessHours | None:
    """The calendar a condition value names (a whole number or digits: its id; otherwise its name)."""
    if isinstance(reference, bool) or reference in (None, ""):
        return None
    text = str(reference).strip()
    found = BusinessHours.objects.filter(pk=int(text)).first() if text.isdigit() else None
    return found or BusinessHours.objects.filter(name__iexact=text).first()


def reference_error(reference: Any) -> str | None:
    """Why a condition value cannot name a calendar (None when it can, or when it is empty: the default)."""
    if reference in (None, ""):
        return None
    if not isinstance(reference, (str, int)) or isinstance(reference, bool):
        return _("Name a business-hours calendar by its name or id.")
    if find_calendar(reference) is None:
        return _('No business-hours calendar "%(name)s".') % {"name": reference}
    return None


def _default_calendar() -> Calendar:
    first = BusinessHours.objects.order_by("name").first()
    if first is not None:
        return calendar_of(first)
    return build_calendar(timezone=settings.TIME_ZONE, intervals=DEFAULT_INTERVALS)


def calendar_named(reference: Any) -> Calendar | None:
    """The Calendar a condition value names; the default calendar for an empty value; None when it is unknown."""
    if reference in (None, ""):
        return _default_calendar()
    found = find_calendar(reference)
    return calendar_of(found) if found is not None else None


def as_moment(value: Any) -> dt.datetime | None:
    """A context timestamp (ISO text or datetime) as an aware datetime; None when it is not one."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def within(actual: Any, reference: Any) -> bool | None:
    """Whether the timestamp `actual` is inside the calendar's open hours; None when either cannot be read."""
    moment, calendar = as_moment(actual), calendar_named(reference)
    if moment is None or calendar is None:
        return None
    return is_open_at(calendar, moment)

"""Times as people read them in admin: in the viewer's time zone (activated per request by
`conversations.middleware.UserTimeZoneMiddleware` from their preference), in the one DATETIME_FORMAT with the zone's
abbreviation. Python code that builds text with a time calls `when`; templates use the `when` filter."""

from __future__ import annotations

import datetime as dt

from django.utils import formats, timezone


def when(value: dt.datetime | None) -> str:
    """A moment as "2026-12-03 19:30 CET" in the active time zone; "" for none."""
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")

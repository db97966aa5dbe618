"""One date and time format across the admin (Django's English locale has several): ISO-like day, 24-hour clock,
and the time zone's abbreviation, so a time never reads without its zone (e.g. "2026-12-03 19:30 CET")."""

DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"

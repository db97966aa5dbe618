"""German dates as people in Germany write them, still with the time zone's abbreviation (e.g. "03.12.2026 19:30 CET");
numbers keep Django's German separators (decimal comma)."""

DATETIME_FORMAT = "d.m.Y H:i T"
SHORT_DATETIME_FORMAT = "d.m.Y H:i T"
DATE_FORMAT = "d.m.Y"
SHORT_DATE_FORMAT = "d.m.Y"
TIME_FORMAT = "H:i"

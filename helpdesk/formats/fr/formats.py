"""French dates (e.g. "03/12/2026 19:30 CET"), with the time zone's abbreviation; Django's French separators."""

DATETIME_FORMAT = "d/m/Y H:i T"
SHORT_DATETIME_FORMAT = "d/m/Y H:i T"
DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
TIME_FORMAT = "H:i"

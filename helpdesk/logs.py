"""Logging filters of the project: what a log line carries, so the console stays readable.

A refused request (403, 404, 400) is a normal answer, not an error: Django's `django.request` logger attaches the
PermissionDenied traceback to its "Forbidden" line, so every 403 printed some thirty lines. Client errors keep
their one line (status, path); server errors (5xx) keep their traceback.
"""

import logging


class OneLineClientErrors(logging.Filter):
    """Drop the traceback from `django.request` records of responses below 500."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


def logging_config(*, json_lines: bool, level: str, q_level: str) -> dict:
    """The demo project's LOGGING: one readable line per record, or one JSON object per line (`HELPDESK_LOG_JSON=1`,
    python-json-logger) for log shippers; 4xx answers without their traceback either way."""
    handler: dict = {"class": "logging.StreamHandler"}
    formatters: dict = {}
    if json_lines:
        formatters["json"] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        handler["formatter"] = "json"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "handlers": {"console": handler},
        "filters": {"one_line_client_errors": {"()": "helpdesk.logs.OneLineClientErrors"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "django.request": {"filters": ["one_line_client_errors"]},
            # django-q2 logs every enqueue at INFO: one line per domain event in the web server's log.
            "django-q": {"level": q_level},
        },
    }

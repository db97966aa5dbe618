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

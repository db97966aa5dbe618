"""The API plumbing moved to conversations/api/base.py (the installed apps must not need this project package).
These names stay importable from here only until every import is rewritten; apps must not import them from here."""

from conversations.api.base import (  # noqa: F401
    IsSupportManager,
    StandardPagination,
    django_validation_error_detail,
    exception_handler,
    router,
)

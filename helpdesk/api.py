"""API plumbing shared by every app: the router, pagination, role permissions and the error handler."""
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, permissions
from rest_framework.pagination import PageNumberPagination
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from conversations.roles import is_manager

router = DefaultRouter()


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}` with `?page=` and `?page_size=` up to 200 (SPEC §10)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class IsSupportManager(permissions.BasePermission):
    """Configuration (workflows, integrations, SLA) is for `Support managers` and superusers."""

    message = "Only support managers may manage configuration."

    def has_permission(self, request, view) -> bool:
        return is_manager(request.user)


def django_validation_error_detail(exc: DjangoValidationError):
    """Turn a Django ValidationError (raised by services) into DRF's field-error shape."""
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"non_field_errors": exc.messages}


def exception_handler(exc, context):
    """DRF's handler, plus: service-layer ValidationErrors become 400 with field messages, never a 500, and a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE is a JSON 400 rather than Django's HTML one."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_error_detail(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = exceptions.ParseError(f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)

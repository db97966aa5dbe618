"""API plumbing shared by every app: the router, pagination, role permissions, the error handler, and the API
defaults every view carries itself (`HelpdeskAPIMixin`), so the API behaves the same in any host project whatever
its REST_FRAMEWORK settings say. It lives in the lowest app so every app's API may import it.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.http import http_date
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import authentication, exceptions, permissions
from rest_framework.pagination import PageNumberPagination
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from conversations.api.authentication import BearerTokenAuthentication, TokenAuthentication
from conversations.api.negotiation import RememberingContentNegotiation
from conversations.api.parsers import SafeJSONParser
from conversations.api.throttling import HelpdeskUserThrottle
from conversations.roles import is_manager

router = DefaultRouter()

# The API's major version, sent as the `API-Version` header of every answer: changes within a version are
# additive; a removal is announced with a `Deprecation` header one minor release ahead (docs/api-versioning.md).
API_VERSION = "1"
API_VERSION_HEADER = "API-Version"


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}` with `?page=` and `?page_size=` up to 200 (docs/api.md).

    Both are whole numbers from 1: anything else is a 400 naming the parameter (DRF would quietly use the default
    size, or answer 404). A page past the last one is DRF's 404; a `page_size` above 200 is served as 200.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    last_page_strings = ()  # the schema says `page` is a number, so `?page=last` is not one of DRF's extras here

    def get_page_number(self, request, paginator) -> int:
        return positive_query_int(request, self.page_query_param) or 1

    def get_page_size(self, request) -> int:
        return min(positive_query_int(request, self.page_size_query_param) or self.page_size, self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size, "default": self.page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds[parameter["name"]])
        parameters[-1]["description"] = (
            f"Rows per page, 1 to {self.max_page_size} (default {self.page_size}); "
            f"a larger number is served as {self.max_page_size}."
        )
        return parameters


def positive_query_int(request, name: str) -> int | None:
    """A whole number from 1 in the query string, None when absent or empty; anything else is a 400 naming it."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit()) or not raw.strip("0"):
        raise exceptions.ValidationError({name: [_("Give a whole number from 1.")]})
    return int(raw) if len(raw) <= 30 else 10**30  # past any page count or size, without parsing a huge number


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
        exc = exceptions.ParseError(
            _("The body is larger than %(settings_DATA_UPLOAD_MAX_MEMOR)s bytes.")
            % {"settings_DATA_UPLOAD_MAX_MEMOR": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


class APIVersionHeaderMixin:
    """Every answer of the view, errors included, names the API version it speaks (docs/api-versioning.md). A view
    being retired sets `deprecated_at` (and, once its removal release is known, `sunset_at`): its answers then carry
    `Deprecation: @<unix time>` (RFC 9745) and `Sunset: <HTTP date>` (RFC 8594)."""

    deprecated_at: dt.datetime | None = None
    sunset_at: dt.datetime | None = None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response[API_VERSION_HEADER] = API_VERSION
        if self.deprecated_at is not None:
            response["Deprecation"] = f"@{int(self.deprecated_at.timestamp())}"
        if self.sunset_at is not None:
            response["Sunset"] = http_date(self.sunset_at.timestamp())
        return response


class HelpdeskAPIMixin(APIVersionHeaderMixin):
    """The API's own defaults, first in every view's bases: token or session login, JSON with the safe-text checks,
    filters, `StandardPagination` and the error handler above. A view's own attributes still win (the public survey
    answer sets none of the login). Carried by the views, not read from REST_FRAMEWORK, so a host project sets none."""

    authentication_classes = [TokenAuthentication, BearerTokenAuthentication, authentication.SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [SafeJSONParser]  # JSON bodies; a view where files travel adds MultiPartParser itself
    filter_backends = [DjangoFilterBackend]
    pagination_class = StandardPagination
    throttle_classes = [HelpdeskUserThrottle]  # per user / token (conversations.api.throttling)
    content_negotiation_class = RememberingContentNegotiation  # DRF's choice, remembered per Accept header

    def get_exception_handler(self):
        """This module's handler rather than the one REST_FRAMEWORK names."""
        return exception_handler

"""`/favicon.ico`: browsers ask for it on every page (the admin's included), and a 404 there fills logs and the
console. Served from the app itself (no collectstatic or static file server needed), cached for a day."""

from functools import lru_cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

ICON = Path(__file__).parent / "static" / "conversations" / "favicon.ico"


@lru_cache(maxsize=1)
def _icon() -> bytes:
    return ICON.read_bytes()


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_icon(), content_type="image/x-icon")

"""Admin pages show times in the viewer's own time zone (their `UserPreference`, else the site's TIME_ZONE).

One indexed read per admin page (always fresh, so a saved preference applies at once in every process). Only admin
pages are affected: the API keeps writing times in the site's zone (ISO with offset) whoever asks.
"""

from __future__ import annotations

import zoneinfo

from django.urls import reverse
from django.utils import timezone, translation

from conversations import preferences


class UserTimeZoneMiddleware:
    """Activate the signed-in person's time zone, and language when they chose one, for admin requests (after the
    authentication middleware and LocaleMiddleware, whose choice from Accept-Language stands otherwise)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix: str | None = None

    def __call__(self, request):
        self.prefix = self.prefix or reverse("admin:index")
        user = getattr(request, "user", None)
        if request.path.startswith(self.prefix) and user is not None and user.is_authenticated:
            zone, language = preferences.preferences_of(user)
            timezone.activate(zoneinfo.ZoneInfo(zone))
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

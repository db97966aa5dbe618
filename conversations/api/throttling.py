"""API rate limits (issue 25): per user (and so per token) for signed-in callers, stricter per address for the public
survey answer. The rates are `HELPDESK_THROTTLE_USER` and `HELPDESK_THROTTLE_ANON` ("<count>/<sec|min|hour|day>"),
read at each request (so a test or a host project changes them in settings); an empty rate turns the limit off.
Past it the API answers 429 with `Retry-After` (DRF's `Throttled`). Counts live in Django's default cache: with
several web processes, use a shared cache (Redis, Memcached) so the limit is one for all of them."""

from __future__ import annotations

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from conversations.conf import helpdesk_setting


class HelpdeskUserThrottle(UserRateThrottle):
    """Signed-in requests, counted per user (a token belongs to one user); anonymous ones per address."""

    scope = "helpdesk_user"

    def get_rate(self) -> str | None:
        return helpdesk_setting("THROTTLE_USER") or None


class HelpdeskAnonThrottle(AnonRateThrottle):
    """Public endpoints (the survey answer), counted per client address: stricter than signed-in callers."""

    scope = "helpdesk_anon"

    def get_rate(self) -> str | None:
        return helpdesk_setting("THROTTLE_ANON") or None

"""API rate limits (issue 25): per user (and so per token) for signed-in callers, stricter per address for the public
survey answer. The rates are `HELPDESK_THROTTLE_USER` and `HELPDESK_THROTTLE_ANON` ("<count>/<sec|min|hour|day>"),
read at each request (so a test or a host project changes them in settings); an empty rate turns the limit off.
Past it the API answers 429 with `Retry-After` (DRF's `Throttled`). Counts live in Django's default cache: with
several web processes, use a shared cache (Redis, Memcached) so the limit is one for all of them."""

from __future__ import annotations

from array import array

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from conversations.conf import helpdesk_setting


class CompactHistory:
    """DRF's sliding window, with the request times kept as an `array('d')` rather than a list of floats: the cache
    pickles it as one block of bytes, about ten times faster at thousands of requests a minute. The same times and
    the same decisions; a list left in the cache by an older process is read as before and stored as an array."""

    history: list[float] | array
    now: float
    key: str
    duration: int
    cache: object

    def throttle_success(self) -> bool:
        history = self.history if isinstance(self.history, array) else array("d", self.history)
        history.insert(0, self.now)
        self.history = history
        self.cache.set(self.key, history, self.duration)  # type: ignore[attr-defined]
        return True


class HelpdeskUserThrottle(CompactHistory, UserRateThrottle):
    """Signed-in requests, counted per user (a token belongs to one user); anonymous ones per address."""

    scope = "helpdesk_user"

    def get_rate(self) -> str | None:
        return helpdesk_setting("THROTTLE_USER") or None


class HelpdeskAnonThrottle(CompactHistory, AnonRateThrottle):
    """Public endpoints (the survey answer), counted per client address: stricter than signed-in callers."""

    scope = "helpdesk_anon"

    def get_rate(self) -> str | None:
        return helpdesk_setting("THROTTLE_ANON") or None

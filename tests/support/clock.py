"""A settable clock for `timezone.now()` (and so `clock.now()` and `auto_now_add`): moved by hand, never by sleeping."""

import datetime as dt


class Clock:
    """What `timezone.now()` returns in a test; moved by hand, never by sleeping."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

"""The one clock of the product. Code asks `clock.now()`; tests move time with `clock.travel(...)` instead of sleeping.

HELPDESK_CLOCK_OFFSET_SECONDS (test-only, unset in production) starts a whole process that many seconds in the
future: the reliability scenarios start workers "ten minutes later" (past a run's lease) instead of waiting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator

from django.utils import timezone

_offset = dt.timedelta(seconds=float(os.environ.get("HELPDESK_CLOCK_OFFSET_SECONDS") or 0))


def now() -> dt.datetime:
    """The current time (aware), shifted when a test travels."""
    return timezone.now() + _offset


@contextlib.contextmanager
def travel(delta: dt.timedelta) -> Iterator[None]:
    """Move the clock forward by `delta` for the duration of the block (tests and benchmarks)."""
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous

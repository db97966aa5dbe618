"""The one clock of the product. Code asks `clock.now()`; tests move time with `clock.travel(...)` instead of sleeping."""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_offset = dt.timedelta(0)


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

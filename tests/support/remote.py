"""Fake remote endpoints (pytest-httpserver handlers on 127.0.0.1) whose timing the test controls by conditions, not
by sleeping."""

from __future__ import annotations

import threading
from collections.abc import Callable

from werkzeug import Request, Response

HOLD_LIMIT_SECONDS = 30  # a held answer is let go by then even if the test forgot to: the server must stop


class HeldFirstAnswer:
    """A handler whose first answer is held until `let_go()` (so the caller's short timeout expires), and whose
    later answers come at once. `calls` keeps what `key` read from each request (e.g. its Idempotency-Key)."""

    def __init__(self, answer: Callable[[], Response], key: Callable[[Request], str] = lambda request: "") -> None:
        self.answer, self.key = answer, key
        self.calls: list[str] = []
        self._released, self._answered = threading.Event(), threading.Event()

    def __call__(self, request: Request) -> Response:
        self.calls.append(self.key(request))
        if len(self.calls) == 1:
            self._released.wait(timeout=HOLD_LIMIT_SECONDS)
            self._answered.set()
        return self.answer()

    def let_go(self, timeout: float = 10) -> None:
        """Send the held answer and wait until it is sent, so a single-threaded server is free for the next call."""
        self._released.set()
        assert self._answered.wait(timeout), "the held request never reached the fake server"

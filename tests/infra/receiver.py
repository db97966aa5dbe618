"""A fake remote system for the reliability tests: a real HTTP server on 127.0.0.1 (pytest-httpserver, threaded)
that honours the `Idempotency-Key` the engine sends with every outbound request, and counts what arrived.

The first 2xx answer to a key is one effect. A later request with the same key is acknowledged again, as a receiver
that honours the key does, but it is counted as a repeat: a test can then tell "delivered twice, applied once" from
a doubled effect. `outage()` makes it answer 503 for a while (from its first request on) before it recovers.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.infra.servers import free_port

IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass
class ReceiverFigures:
    """What the receiver saw: requests, distinct effects, repeats of an applied key, outage answers, keyless calls."""

    requests: int
    effects: int
    repeats: int
    repeated_keys: int
    outage_answers: int
    without_key: int


class IdempotentReceiver:
    """An HTTP endpoint on 127.0.0.1 that applies each Idempotency-Key once and counts every arrival."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._answer)
        self.lock = threading.Lock()
        self.arrivals: Counter[str] = Counter()  # every request with a key, by key
        self.effects: dict[str, str] = {}  # applied key -> path of the request that applied it
        self.repeats: Counter[str] = Counter()  # requests whose key had already been applied
        self.outage_answers = 0
        self.without_key = 0
        self._outage_seconds = 0.0
        self._outage_started: float | None = None

    def url(self, path: str = "/") -> str:
        return self.server.url_for(path)

    def start(self) -> IdempotentReceiver:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request: the figures must show
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()

    def __enter__(self) -> IdempotentReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def outage(self, seconds: float) -> None:
        """Answer 503 to every request for `seconds`, counted from the next request that arrives."""
        with self.lock:
            self._outage_seconds, self._outage_started = seconds, None

    def figures(self) -> ReceiverFigures:
        """A consistent snapshot of the counters."""
        with self.lock:
            return ReceiverFigures(
                requests=sum(self.arrivals.values()) + self.without_key,
                effects=len(self.effects),
                repeats=sum(self.repeats.values()),
                repeated_keys=len(self.repeats),
                outage_answers=self.outage_answers,
                without_key=self.without_key,
            )

    def effects_by_path(self) -> Counter[str]:
        """How many distinct effects each path received."""
        with self.lock:
            return Counter(self.effects.values())

    def _answer(self, request: Request) -> Response:
        """Runs in the server's threads: count, answer 503 during an outage, apply a new key once."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        with self.lock:
            if not key:
                self.without_key += 1
                return Response("Idempotency-Key missing", status=400)
            self.arrivals[key] += 1
            if self._in_outage():
                self.outage_answers += 1
                return Response("down for maintenance", status=503)
            if key in self.effects:
                self.repeats[key] += 1
            else:
                self.effects[key] = request.path
        return Response('{"ok": true}', status=200, content_type="application/json")

    def _in_outage(self) -> bool:
        if not self._outage_seconds:
            return False
        if self._outage_started is None:
            self._outage_started = time.monotonic()
        if time.monotonic() - self._outage_started < self._outage_seconds:
            return True
        self._outage_seconds = 0.0
        return False

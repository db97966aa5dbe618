"""Waiting for SQLite's write lock in small steps instead of SQLite's own busy handler.

An IMMEDIATE transaction takes the write lock at BEGIN; a writer that finds it held waits in SQLite's busy handler,
which sleeps 1, 2, 5, 10, 15, 20, 25 ... 100 ms between tries. The lock is held ~1–2 ms per transaction here (an API
write, a workflow run), so a waiter typically sleeps several holds' worth while the lock sits free: with the web
server and the workers writing at once, the lock is idle much of the time nobody holds it and the requests queue
(measured: ~180 against ~250–320 transactions/s for four processes holding it 1.5 ms each; bench/capacity.py).

`poll_begin` replaces the connection's BEGIN: the busy timeout is set to 0 around it and BEGIN is retried every
`POLL_SECONDS` (doubling up to `POLL_MAX_SECONDS`) until it succeeds or the connection's own busy timeout is spent,
when it fails with "database is locked" as before. Only BEGIN waits this way; statements run in autocommit keep
SQLite's handler and the connection's timeout. Installed on every tuned connection by `conversations.sqlite_tuning`.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

POLL_SECONDS = 0.0001
POLL_MAX_SECONDS = 0.001


def poll_begin(connection: Any) -> None:
    """Make `connection` (Django's SQLite wrapper, connected, IMMEDIATE or EXCLUSIVE transactions) wait for the
    write lock at BEGIN by polling (see the module docstring). No-op for DEFERRED transactions (BEGIN never waits)."""
    mode = connection.transaction_mode
    if mode not in ("IMMEDIATE", "EXCLUSIVE"):
        return
    raw = connection.connection
    timeout_ms = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
    statement = f"BEGIN {mode}"

    def start_transaction_under_autocommit() -> None:
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            begin_until_free(lambda: connection.cursor().execute(statement), timeout_ms / 1000)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {timeout_ms}")

    connection._start_transaction_under_autocommit = start_transaction_under_autocommit


def _locked(error: BaseException) -> bool:
    cause = error.__cause__ if not isinstance(error, sqlite3.OperationalError) else error
    return isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)


def begin_until_free(begin: Any, timeout: float, sleep: Any = time.sleep) -> int:
    """Call `begin` until it stops failing with "database is locked", sleeping `POLL_SECONDS` doubling up to
    `POLL_MAX_SECONDS` in between; past `timeout` seconds the last failure is raised. Returns the retries."""
    deadline = time.monotonic() + timeout
    pause, retries = POLL_SECONDS, 0
    while True:
        try:
            begin()
            return retries
        except Exception as error:
            if not _locked(error) or time.monotonic() >= deadline:
                raise
        sleep(pause)
        pause = min(pause * 2, POLL_MAX_SECONDS)
        retries += 1

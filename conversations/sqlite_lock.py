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

A BEGIN that finds the lock taken also says so on the database's *waiting board* (`WaitingBoard`, 8 bytes of shared
memory in a file beside the database): it stamps the moment of each failed try and clears its stamp once it has the
lock. A draining worker's run group reads the board after each run and commits early when someone waits, then lets
the waiter in before it opens the next group (`workflows.engine.runner`), so an API write waits about one run's hold
behind a group instead of the whole group. Reading the board costs well under a microsecond; a stamp older than
`WAITING_WINDOW_NS` (a waiter re-stamps at least every `POLL_MAX_SECONDS`) counts for nothing, so a waiter that died
leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sqlite3
import struct
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

POLL_SECONDS = 0.0001
POLL_MAX_SECONDS = 0.001
WAITING_SUFFIX = "-lock-waiting"
WAITING_WINDOW_NS = 3_000_000  # a stamp this recent means someone is still trying (they re-stamp every ≤ 1 ms)
_STAMP = struct.Struct("=q")


class WaitingBoard:
    """The moment someone last failed to BEGIN on a database file (monotonic ns, shared by every process of the
    host through a memory-mapped file beside the database; 0: nobody waits)."""

    def __init__(self, path: str):
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _STAMP.size:
                os.ftruncate(fd, _STAMP.size)
            self._map = mmap.mmap(fd, _STAMP.size)
        finally:
            os.close(fd)

    def stamp(self) -> int:
        """Say that a writer is waiting now; returns the stamp written."""
        now = time.monotonic_ns()
        _STAMP.pack_into(self._map, 0, now)
        return now

    def clear(self, stamp: int) -> None:
        """The writer that wrote `stamp` has the lock: clear the board unless another waiter stamped it since."""
        if _STAMP.unpack_from(self._map, 0)[0] == stamp:
            _STAMP.pack_into(self._map, 0, 0)

    def someone_waiting(self) -> bool:
        last = _STAMP.unpack_from(self._map, 0)[0]
        return last != 0 and time.monotonic_ns() - last < WAITING_WINDOW_NS


_boards: dict[str, WaitingBoard] = {}
_announced: ContextVar[bool] = ContextVar("helpdesk_lock_waits_announced", default=True)


@contextlib.contextmanager
def unannounced_waits() -> Iterator[None]:
    """Inside the block this thread's BEGINs wait without stamping the board: a draining worker, whose waits behind
    another drain's group are ordered by the drains' turns (`workflows.engine.write_turns`), not by early commits."""
    token = _announced.set(False)
    try:
        yield
    finally:
        _announced.reset(token)


def waiting_board(connection: Any) -> WaitingBoard | None:
    """The waiting board of the SQLite file `connection` writes to (one per process and file, kept open); None
    where there is none (another database, an in-memory one)."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    path = name + WAITING_SUFFIX
    board = _boards.get(path)
    if board is None:
        try:
            board = _boards[path] = WaitingBoard(path)
        except OSError:  # a read-only directory: no board, groups keep their own bounds
            return None
    return board


def poll_begin(connection: Any) -> None:
    """Make `connection` (Django's SQLite wrapper, connected, IMMEDIATE or EXCLUSIVE transactions) wait for the
    write lock at BEGIN by polling (see the module docstring). No-op for DEFERRED transactions (BEGIN never waits)."""
    mode = connection.transaction_mode
    if mode not in ("IMMEDIATE", "EXCLUSIVE"):
        return
    raw = connection.connection
    timeout_ms = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
    statement = f"BEGIN {mode}"
    board = waiting_board(connection)

    def start_transaction_under_autocommit() -> None:
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            begin_until_free(
                lambda: connection.cursor().execute(statement),
                timeout_ms / 1000,
                board=board if _announced.get() else None,
            )
        finally:
            raw.execute(f"PRAGMA busy_timeout = {timeout_ms}")

    connection._start_transaction_under_autocommit = start_transaction_under_autocommit


def _locked(error: BaseException) -> bool:
    cause = error.__cause__ if not isinstance(error, sqlite3.OperationalError) else error
    return isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)


def begin_until_free(begin: Any, timeout: float, sleep: Any = time.sleep, board: WaitingBoard | None = None) -> int:
    """Call `begin` until it stops failing with "database is locked", sleeping `POLL_SECONDS` doubling up to
    `POLL_MAX_SECONDS` in between; past `timeout` seconds the last failure is raised. Returns the retries. With a
    `board`, each failed try stamps it and the last stamp is cleared once `begin` succeeds or fails for good."""
    deadline = time.monotonic() + timeout
    pause, retries, stamp = POLL_SECONDS, 0, 0
    try:
        while True:
            try:
                begin()
                return retries
            except Exception as error:
                if not _locked(error) or time.monotonic() >= deadline:
                    raise
            if board is not None:
                stamp = board.stamp()
            sleep(pause)
            pause = min(pause * 2, POLL_MAX_SECONDS)
            retries += 1
    finally:
        if board is not None and stamp:
            board.clear(stamp)

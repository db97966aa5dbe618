"""Turns at SQLite's one write lock for the draining workers of a host (docs/drain_groups.md).

SQLite lets one writer in at a time, and a writer that finds the lock taken sleeps in the busy handler (1, 2, 5,
10 ... up to 100 ms at a time) and tries again. Two workers draining the same file then mostly sleep past the moment
the lock is free, and the one that just committed takes it again first. So the drain's run groups
(`runner.grouped`) first take a turn: an exclusive `flock` on a file beside the database, on which a waiting worker
blocks in the kernel and is woken the moment the previous holder's group has committed. Only the drain's groups
take turns; the web server and the other writers still meet at SQLite's own lock, as before. A turn is taken
before the write lock and released after the commit, and nothing waits for a turn while it holds the write lock, so
the two cannot deadlock. Elsewhere (PostgreSQL, an in-memory database) a turn costs nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from typing import Any

SUFFIX = "-drain-turns"


class _Handles(threading.local):
    """This thread's open lock file per database file: each its own open file, so threads and forked processes
    exclude each other (a `flock` belongs to the open file, which a fork would share)."""

    def __init__(self) -> None:
        self.pid = 0
        self.files: dict[str, int] = {}


_handles = _Handles()


def lock_path(connection: Any) -> str | None:
    """The turn file of the database `connection` writes to; None when writers need no turns (not a SQLite file)."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    return name + SUFFIX


def lock_file(path: str) -> int:
    """This thread's open descriptor of the lock file at `path` (opened once per thread and process; the drain gate's
    file too, `workflows.engine.drain_gate`)."""
    if _handles.pid != os.getpid():  # a forked child opens its own
        _handles.pid, _handles.files = os.getpid(), {}
    fd = _handles.files.get(path)
    if fd is None:
        fd = _handles.files[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return fd


@contextlib.contextmanager
def turn(connection: Any) -> Iterator[None]:
    """Hold this host's drain turn at `connection`'s database (a no-op where there is none)."""
    path = lock_path(connection)
    if path is None:
        yield
        return
    fd = lock_file(path)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)

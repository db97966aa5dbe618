"""One drain at a time on a host's SQLite file while messages trickle in (docs/operations.md "What a run costs").

Every wake-up task drains (`workflows.engine.drain`). With messages arriving a few at a time, a second worker woken
while the first still drains only splits the trickle: each drain's looks find fewer events, so the same runs are
dispatched in more, smaller batches (a batch has a fixed cost: its claim, its match, its group's commit), and the two
drains queue for SQLite's one write lock. Measured with 20 messages/s and 2 workers, the cluster made 1.6x the
batches of one drain doing the same work, and its CPU per run was 1.5-1.6x.

So on a SQLite file a wake-up first takes the host's drain gate: an exclusive, non-blocking `flock` on a file beside
the database. A task that finds the gate held *pokes* the drain holding it (writes a fresh record into the gate file)
and returns; the holder, after its drain, releases the gate and drains again when it was poked meanwhile. Nothing is
left behind: a poke happens before the poker's second try at the gate, so either that try succeeds (and the poker
drains itself) or the holder still held the gate then and reads the poke after releasing it. A task that finds the
gate held while a full batch of events waits (a backlog, not a trickle) joins the drain instead: the claims keep two
drains from taking the same events, and a backlog is worth two cores. A process that dies holding the gate drops it
(the kernel releases a `flock` with its file); the events its pokes announced are then left to the next wake-up and
the sweep, as the events of any worker killed mid-drain are. The gate is only ever tried, never waited for, so it
cannot deadlock with the write turns or SQLite's lock that a drain takes inside it. Elsewhere (PostgreSQL, an in-memory database) there is no gate: the
drains claim with SKIP LOCKED and scale out.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from typing import Any

from django.db import connection

from conversations.events import enqueue_event
from workflows.engine import claims, write_turns

SUFFIX = "-drain-gate"
RECORD_BYTES = 48  # the last poke, at the start of the gate file
END_BYTES = 20  # then when the last drain ended


def gate_path(db: Any = None) -> str | None:
    """The gate file of the database (`connection` unless given); None where drains need no gate."""
    turns = write_turns.lock_path(db if db is not None else connection)
    return None if turns is None else turns.removesuffix(write_turns.SUFFIX) + SUFFIX


def _try_take(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _pokes(fd: int) -> bytes:
    return os.pread(fd, RECORD_BYTES, 0).rstrip(b"\0 ")  # a file that has no poke yet reads as nothing


def _poke(fd: int) -> None:
    os.pwrite(fd, f"{os.getpid()} {time.monotonic_ns()}".ljust(RECORD_BYTES).encode(), 0)


def _last_end(fd: int) -> int:
    """When the last drain under the gate ended (`time.monotonic_ns`, one clock for the whole host), 0 if none did."""
    text = os.pread(fd, END_BYTES, RECORD_BYTES).strip()
    return int(text) if text.isdigit() else 0


def _mark_end(fd: int) -> None:
    os.pwrite(fd, f"{time.monotonic_ns():0{END_BYTES}d}".encode(), RECORD_BYTES)


def backlog_waiting() -> bool:
    """A full look of free events waits (one compiled read): a second drain is worth its cost."""
    free, complete = claims.peek_free()
    return not complete


def drain_gated(
    drain: Callable[[Any, float], int],
    event_id: Any,
    budget_seconds: float,
    *,
    join: Callable[[], bool] = backlog_waiting,
    pause_seconds: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    db: Any = None,
) -> int:
    """`drain(event_id, budget)` under the host's drain gate of `db` (`connection` unless given; see the module
    docstring); returns the runs started. A drain under the gate starts `pause_seconds` after the previous one ended
    at the earliest (the queue's poll interval: no sooner than a new wake-up task would have started), so the events
    of that pause make one batch. Without a gate file (PostgreSQL, in-memory SQLite), simply the drain."""
    path = gate_path(db)
    if path is None:
        return drain(event_id, budget_seconds)
    fd = write_turns.lock_file(path)
    if not _try_take(fd):
        _poke(fd)
        if not _try_take(fd):
            return drain(event_id, budget_seconds) if join() else 0
    deadline = time.monotonic() + budget_seconds
    started, first_event_id = 0, event_id
    while True:
        wait = min(pause_seconds, (_last_end(fd) - time.monotonic_ns()) / 1e9 + pause_seconds)
        if wait > 0:
            sleep(wait)
        seen, drained = _pokes(fd), False
        try:
            started += drain(event_id, max(0.0, deadline - time.monotonic()))
            drained = True
        finally:
            _mark_end(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            if not drained and _pokes(fd) != seen:  # the drain failed: what the poke announced gets a wake-up
                enqueue_event(first_event_id, force=True)
        if _pokes(fd) == seen:
            return started
        if time.monotonic() + pause_seconds >= deadline:  # poked, but this task's time is spent: another worker
            enqueue_event(first_event_id, force=True)
            return started
        if not _try_take(fd):  # whoever took the gate drains what the poke announced
            return started
        event_id = None

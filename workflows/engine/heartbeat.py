"""The worker cluster's heartbeat: how the supervisor sees that the tier finishes tasks without django-q2 saving
every success (Q_CLUSTER["save_limit"] -1, docs/operations.md "What a run costs").

The supervisor names a file in HELPDESK_WORKER_HEARTBEAT_FILE when it starts a cluster; the cluster's monitor process
(which receives every finished task from the workers) writes a fresh record into that file after each one, through
django-q2's `post_execute` signal. "A task finished since the probe was sent" is then "the record changed since
then": one small write per task in the cluster, one read per watchdog tick in the supervisor, no database row.
(A record, not the file's modification time: that has the kernel's coarse clock, and two beats within one tick
would look like none.)
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

RECORD_BYTES = 48
HEARTBEAT_ENV = "HELPDESK_WORKER_HEARTBEAT_FILE"  # set by the supervisor for the cluster it runs; you do not set it


def heartbeat_file() -> Path | None:
    """The file this process beats on after each finished task, or None outside a supervised cluster."""
    path = os.environ.get(HEARTBEAT_ENV, "")
    return Path(path) if path else None


def beat(path: Path) -> None:
    """Mark that a task finished: this process's id and a fresh monotonic moment, written over the file's first
    bytes in place (a fixed width, no truncation: a reader never sees the file empty). Never raises."""
    record = f"{os.getpid()} {time.monotonic_ns()}".ljust(RECORD_BYTES).encode()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        return
    try:
        os.pwrite(descriptor, record, 0)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def last_beat(path: Path) -> bytes:
    """What the last beat wrote (b"" before the first): any change means a task finished in between."""
    try:
        return path.read_bytes()
    except OSError:
        return b""


def beat_after_task(sender: Any = None, **kwargs: Any) -> None:
    """django-q2 `post_execute` receiver (connected in WorkflowsConfig.ready when the file is named)."""
    path = heartbeat_file()
    if path is not None:
        beat(path)

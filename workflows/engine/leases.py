"""Who holds a run's lease, and handing the lease back at once when that process is seen to be dead.

A run claimed by a worker carries `leased_by`: the worker's host (and PID namespace), PID and process start time.
A worker killed mid-step (`kill -9`, the OOM killer, django-q2's task timeout) would otherwise leave its run to
wait out the whole lease (`HELPDESK_RUN_LEASE_SECONDS`, 150 s). Every sweep (the supervisor's, the cluster's) looks
at the runs leased by processes of its own host: a process that no longer exists, is a zombie, or whose PID now
belongs to a process started at another moment (the PID was reused) is dead, and its runs' leases are handed back
so the same sweep resumes them. A run leased on another host is left to its lease: no process here can see there.
A process that cannot be inspected counts as alive (waiting out the lease is always safe; running a step twice
at once is not).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
from pathlib import Path

from conversations import clock
from workflows.choices import RunStatus
from workflows.models import WorkflowRun

logger = logging.getLogger(__name__)

PROC = Path("/proc")


@functools.cache
def host_key() -> str:
    """This host and PID namespace: PIDs are comparable only between processes that share both."""
    try:
        namespace = str(os.stat(PROC / "self" / "ns" / "pid").st_ino)
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}/{namespace}"


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None without /proc."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return []  # no such process
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()


def process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" when unknown), which tells a reused PID apart."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else ""


def holder_of(pid: int) -> str:
    """The `leased_by` value of a lease held by process `pid` of this host."""
    return f"{host_key()}:{pid}:{process_start(pid)}"


@functools.cache
def _own_holder(pid: int) -> str:
    return holder_of(pid)


def this_worker() -> str:
    """The `leased_by` value of this process (per PID, so a forked worker does not inherit its parent's)."""
    return _own_holder(os.getpid())


def holder_alive(holder: str) -> bool:
    """Whether the process named by a `leased_by` value of this host may still be running."""
    try:
        pid_text, started = holder.rsplit(":", 2)[1:]
        pid = int(pid_text)
    except ValueError:
        return True
    fields = _stat_fields(pid)
    if fields is None:  # no /proc: ask the kernel whether the PID exists at all
        return _pid_exists(pid)
    if not fields or fields[0] in ("Z", "X"):  # gone, or a zombie its parent has not reaped yet
        return False
    return not started or len(fields) <= 19 or fields[19] == started


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def hand_back_dead_leases(now: dt.datetime | None = None) -> int:
    """Expire the leases of running runs whose holder on this host has died, so the sweep resumes them now; returns
    how many runs were handed back."""
    now = now or clock.now()
    holders = set(
        WorkflowRun.objects.filter(
            status=RunStatus.RUNNING, lease_until__gte=now, leased_by__startswith=f"{host_key()}:"
        )
        .values_list("leased_by", flat=True)
        .distinct()
    )
    dead = [holder for holder in holders if not holder_alive(holder)]
    if not dead:
        return 0
    handed = WorkflowRun.objects.filter(status=RunStatus.RUNNING, leased_by__in=dead, lease_until__gte=now).update(
        lease_until=now - dt.timedelta(seconds=1)
    )
    logger.warning("Handed back the leases of %s run(s) whose worker died (%s)", handed, ", ".join(sorted(dead)))
    return handed

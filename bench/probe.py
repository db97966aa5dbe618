"""Measuring probes for bench/capacity.py, installed in the real processes under test (never in production code).

- Transactions: per process, how many, the time spent waiting to begin one (SQLite: BEGIN IMMEDIATE waiting for the
  write lock) and the time between begin and commit/rollback (the time the lock is held). Wrapped at
  `BaseDatabaseWrapper.set_autocommit` / `commit` / `rollback`, which every `transaction.atomic` goes through.
- Drains: per `workflows.engine.drain.drain_events` call (one per wake-up task), whether it started any run and the
  thread CPU it spent.
- Claims: per `workflows.engine.dispatcher.dispatch_batch` call, the events the worker read and those it could not
  take (`Batch.unsettled`: another worker held or took them — a lost claim), and the thread CPU the call spent (the
  read-and-match a lost claim wastes). If the engine's shape changes, the probe counts nothing and the bench says
  "n/a" instead of guessing.

Each process writes its counters to `$BENCH_PROBE_DIR/<role>-<pid>.json` (a daemon thread, every 0.2 s when they
changed). Entry points: `python -m bench.probe qcluster` (a qcluster whose forked workers inherit the probes) and the
WSGI app `bench.probe:application` (gunicorn workers).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

PROBE_DIR_ENV = "BENCH_PROBE_DIR"
FIELDS = (
    "transactions",
    "wait_s",
    "hold_s",
    "batches",
    "events_read",
    "lost_claims",
    "dispatch_cpu_s",
    "drains",
    "empty_drains",
    "drain_cpu_s",
    "waits",  # transactions whose BEGIN found the lock taken (waited over 50 µs)
    "waits_behind_worker",  # of those, the ones that began while a worker's transaction held the lock
    "wait_behind_worker_s",
)
HOLDER_FILE = "worker-holds-the-lock"  # one shared byte: 1 while a worker process holds a write transaction

_counters = dict.fromkeys(FIELDS, 0.0)
_state = {"role": "process", "owner": 0, "dirty": False}
_local = threading.local()


def _ensure_flusher() -> None:
    """One flushing thread per process (threads do not survive a fork, so each forked worker starts its own)."""
    if _state["owner"] == os.getpid() or not os.environ.get(PROBE_DIR_ENV):
        return
    _state["owner"] = os.getpid()
    for key in FIELDS:  # a forked child starts from zero: its parent's counts are the parent's
        _counters[key] = 0.0
    threading.Thread(target=_flush_forever, daemon=True).start()


def _flush_forever() -> None:
    path = Path(os.environ[PROBE_DIR_ENV]) / f"{_state['role']}-{os.getpid()}.json"
    while True:
        time.sleep(0.2)
        if _state["dirty"]:
            _state["dirty"] = False
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(_counters))
            temporary.replace(path)


def _add(**amounts: float) -> None:
    _ensure_flusher()
    for key, amount in amounts.items():
        _counters[key] += amount
    _state["dirty"] = True


def install(role: str) -> None:
    """Wrap the transaction boundaries and the dispatcher (call after django.setup())."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    _state["role"] = role
    set_autocommit, commit, rollback = (
        BaseDatabaseWrapper.set_autocommit,
        BaseDatabaseWrapper.commit,
        BaseDatabaseWrapper.rollback,
    )

    holder = _holder_map()
    worker = role == "worker"

    def timed_set_autocommit(self, autocommit, *args, **kwargs):
        if autocommit or not self.get_autocommit():
            return set_autocommit(self, autocommit, *args, **kwargs)
        behind_worker = holder is not None and holder[0] == 1
        asked = time.perf_counter()
        result = set_autocommit(self, autocommit, *args, **kwargs)
        _local.began = time.perf_counter()
        if worker and holder is not None:
            holder[0] = 1
        waited = _local.began - asked
        if waited > 0.00005:
            _add(
                wait_s=waited,
                waits=1,
                waits_behind_worker=1 if behind_worker else 0,
                wait_behind_worker_s=waited if behind_worker else 0.0,
            )
        else:
            _add(wait_s=waited)
        return result

    def ended(method):
        def timed(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            finally:
                began = getattr(_local, "began", None)
                if began is not None:
                    _local.began = None
                    if worker and holder is not None:
                        holder[0] = 0
                    _add(transactions=1, hold_s=time.perf_counter() - began)

        return timed

    BaseDatabaseWrapper.set_autocommit = timed_set_autocommit
    BaseDatabaseWrapper.commit = ended(commit)
    BaseDatabaseWrapper.rollback = ended(rollback)
    _install_claims()


def _holder_map():
    """The shared byte saying a worker holds a write transaction (None without a probe directory)."""
    import mmap

    directory = os.environ.get(PROBE_DIR_ENV)
    if not directory:
        return None
    fd = os.open(os.path.join(directory, HOLDER_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size < 1:
            os.ftruncate(fd, 1)
        return mmap.mmap(fd, 1)
    finally:
        os.close(fd)


def _install_claims() -> None:
    try:
        from workflows.engine import dispatcher
    except ImportError:
        return
    original = getattr(dispatcher, "dispatch_batch", None)
    if original is None:
        return

    def counted(event_ids, *args, **kwargs):
        started = time.thread_time()
        batch = original(event_ids, *args, **kwargs)
        lost = getattr(batch, "unsettled", None)
        _add(
            batches=1,
            events_read=len(event_ids),
            lost_claims=len(lost) if lost is not None else 0,
            dispatch_cpu_s=time.thread_time() - started,
        )
        return batch

    dispatcher.dispatch_batch = counted
    _install_drains()


def _install_drains() -> None:
    """Count the drains (one per wake-up task), those that started no run, and the thread CPU spent inside them: the
    worker tier's CPU minus this is what the queue machinery and the cluster's other processes cost."""
    try:
        from workflows.engine import drain
    except ImportError:
        return
    original = getattr(drain, "drain_events", None)
    if original is None:
        return

    def counted(*args, **kwargs):
        started = time.thread_time()
        runs = 0
        try:
            runs = original(*args, **kwargs)
            return runs
        finally:
            _add(drains=1, empty_drains=0 if runs else 1, drain_cpu_s=time.thread_time() - started)

    drain.drain_events = counted


def read_counters(directory: Path, role: str) -> dict[str, float]:
    """The sum of the counters every process of `role` wrote so far."""
    total = dict.fromkeys(FIELDS, 0.0)
    for path in directory.glob(f"{role}-*.json"):
        try:
            values = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for key in FIELDS:
            total[key] += values.get(key, 0.0)
    return total


def _setup(role: str) -> None:
    import django

    django.setup()
    install(role)


def _wsgi():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    install("web")
    return app


if __name__ == "__main__":
    if sys.argv[1:] != ["qcluster"]:
        sys.exit("usage: python -m bench.probe qcluster")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    _setup("worker")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", "qcluster"])
else:
    application = _wsgi() if os.environ.get(PROBE_DIR_ENV) and os.environ.get("BENCH_PROBE_WSGI") == "1" else None

"""The worker supervisor (`manage.py helpdesk_supervisor`): runs the django-q2 cluster and keeps automation going
when any one of its processes dies.

Why it exists: django-q2's workers read one shared multiprocessing queue, and an idle worker waits in
`queue.get()` *holding that queue's lock*. A worker killed while idle (`kill -9`, the OOM killer) never releases
it, so every worker the cluster respawns blocks on it for ever: the cluster looks alive and runs nothing, not
even the scheduled sweep, which runs on those same workers. So the supervisor
- sweeps itself (the engine's `sweep_once` and the SLA sweep) every HELPDESK_SWEEP_SECONDS, in a thread of its
  own process: lost events are dispatched and due runs resumed however wedged the cluster is;
- probes the cluster: it enqueues a no-op task, and when the worker tier finishes no task at all for
  HELPDESK_WORKER_STALL_SECONDS while that probe waits (or the cluster exits), it restarts the cluster. Finished
  tasks are seen on the cluster's heartbeat file (workflows/engine/heartbeat.py), not on django-q2's saved
  results, so the cluster need not save successes (Q_CLUSTER["save_limit"] -1);
- stops the cluster as a whole: SIGTERM to its main PID first (django-q2 hangs when the whole group gets it, see
  its whole group), then, after HELPDESK_WORKER_STOP_SECONDS, SIGKILL to the cluster's process group, so no worker is
  left behind even when the cluster is too wedged to stop.
Killing workers is safe by design: runs hold leases and commit step by step, and the sweep picks up the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import close_old_connections, connections

from conversations import clock
from conversations.conf import helpdesk_setting, manage_py
from sla.sweep import run_sweep as sla_sweep
from workflows.engine import sweep
from workflows.engine.heartbeat import HEARTBEAT_ENV, last_beat

logger = logging.getLogger(__name__)

PROBE_TASK = "workflows.engine.supervisor.probe_task"
SUPERVISED_ENV = "HELPDESK_SWEEP_IN_SUPERVISOR"  # tells the cluster's own sweep task that the supervisor sweeps
TICK_SECONDS = 1.0  # how often the watchdog looks at the cluster (a poll, plus one query while a probe waits)
# A cluster is restarted at the earliest this long after it started; the wait doubles, up to the maximum, while
# clusters keep failing that soon (a database that is down), and falls back once one has lived longer.
RESTART_BACKOFF_SECONDS, MAX_RESTART_BACKOFF_SECONDS = 5.0, 60.0


def probe_task() -> str:
    """The supervisor's no-op probe: the worker tier finishing it (or any other task) shows it makes progress."""
    return "alive"


def heartbeat_path() -> Path:
    """A new, empty file for the heartbeat of the clusters one supervisor runs."""
    descriptor, name = tempfile.mkstemp(prefix="helpdesk-worker-heartbeat-")
    os.close(descriptor)
    return Path(name)


def enqueue_probe() -> str:
    """Hand the probe to the broker, as any task is; returns its id. Its result is not saved: the cluster's
    heartbeat shows it (or any other task) finished."""
    from django_q.tasks import async_task

    return str(async_task(PROBE_TASK))


@dataclass
class ProgressWatch:
    """Tells a cluster that makes progress from one that does not, with one probe task in flight at a time.

    A probe is sent a quarter of the stall threshold after the cluster started or last showed progress; the tier is
    stalled when it has finished no task at all for `stall_seconds` since a probe was sent. A busy tier finishing
    other tasks is not stalled, and a cluster gets stall_seconds * 1.25 to start.
    """

    stall_seconds: float
    heartbeat: Path
    probe_id: str = ""
    probe_beat: bytes = b""  # the heartbeat file's record when the probe was sent
    probe_sent_at: dt.datetime | None = None
    next_probe_at: dt.datetime = field(default_factory=clock.now)

    def stalled(self, now: dt.datetime) -> bool:
        """Send a probe when one is due; True when the one in flight has waited past the threshold unanswered."""
        if self.probe_sent_at is None:
            if now >= self.next_probe_at:
                self.reset(now)  # should the broker refuse it, the next attempt comes as late as a next probe would
                self.probe_beat = last_beat(self.heartbeat)  # read first: a task finishing meanwhile is progress
                self.probe_id, self.probe_sent_at = enqueue_probe(), now
            return False
        if last_beat(self.heartbeat) != self.probe_beat:
            self.reset(now)
            return False
        return (now - self.probe_sent_at).total_seconds() >= self.stall_seconds

    def reset(self, now: dt.datetime) -> None:
        """Forget the probe in flight (after progress, or a restart) and send the next one a little later."""
        self.probe_id, self.probe_sent_at = "", None
        self.next_probe_at = now + dt.timedelta(seconds=self.stall_seconds / 4)


class ClusterProcess:
    """`manage.py qcluster` in a process group of its own (in the supervisor's session), stopped as a whole."""

    def __init__(self, *, stop_seconds: float, heartbeat: Path | None = None) -> None:
        self.stop_seconds, self.heartbeat = stop_seconds, heartbeat
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def exit_code(self) -> int | None:
        """None while the cluster runs (or was never started), else how its main process ended."""
        return self.process.poll() if self.process else None

    def start(self) -> None:
        """Start the cluster; its output goes where the supervisor's goes."""
        env = {**os.environ, SUPERVISED_ENV: "1"}
        if self.heartbeat is not None:
            env[HEARTBEAT_ENV] = str(self.heartbeat)
        self.process = subprocess.Popen([sys.executable, str(manage_py()), "qcluster"], process_group=0, env=env)
        self.started_at = time.monotonic()
        logger.info("Started the worker cluster (pid %s)", self.process.pid)

    def stop(self) -> None:
        """SIGTERM to the main PID, wait up to stop_seconds, then SIGKILL whatever is left of its process group."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_seconds)
            except subprocess.TimeoutExpired:
                logger.warning("The worker cluster did not stop within %s s; killing its processes", self.stop_seconds)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # its workers, even if the main process has already gone
        except ProcessLookupError:
            pass
        process.wait()


class Sweeper:
    """The recovery sweeps, run in the supervisor's own process so no wedged worker can hold them up."""

    def __init__(self, *, sweep_seconds: float, sla_sweep_seconds: float) -> None:
        self.sweep_seconds, self.sla_sweep_seconds = sweep_seconds, sla_sweep_seconds
        self.next_sla_sweep = 0.0

    def sweep(self) -> None:
        """One engine sweep, and an SLA sweep when its own interval has passed; errors are logged, never raised."""
        try:
            if time.monotonic() >= self.next_sla_sweep:
                self.next_sla_sweep = time.monotonic() + self.sla_sweep_seconds
                sla_sweep()
            sweep.sweep_once()
        except Exception:  # the next pass tries again; a supervisor that dies heals nothing
            logger.exception("The supervisor's sweep failed")
        finally:
            close_old_connections()

    def run(self, stop: threading.Event) -> None:
        """Sweep every sweep_seconds until `stop` is set."""
        while True:
            self.sweep()
            if stop.wait(self.sweep_seconds):
                connections.close_all()
                return


class Supervisor:
    """The cluster, the sweeper and the watchdog that restarts the cluster when it exits or stalls."""

    def __init__(self, *, cluster: ClusterProcess, sweeper: Sweeper, watch: ProgressWatch) -> None:
        self.cluster, self.sweeper, self.watch = cluster, sweeper, watch
        self.restarts = 0
        self.backoff = RESTART_BACKOFF_SECONDS

    def run(self, stop: threading.Event) -> None:
        """Start everything and watch until `stop` is set; then stop the cluster and its whole process group."""
        sweeper = threading.Thread(target=self.sweeper.run, args=(stop,), name="helpdesk-sweep", daemon=True)
        self.cluster.start()
        self.watch.reset(clock.now())
        sweeper.start()
        try:
            while not stop.wait(TICK_SECONDS):
                self.check()
        finally:
            self.cluster.stop()
            sweeper.join(timeout=self.cluster.stop_seconds)
            self.watch.heartbeat.unlink(missing_ok=True)

    def check(self) -> str:
        """One watchdog pass: restart the cluster if it exited or stalled; returns why it did, or ""."""
        reason = self._restart_reason()
        lived = time.monotonic() - self.cluster.started_at
        if not reason or lived < self.backoff:
            return ""
        logger.warning("Restarting the worker cluster: %s", reason)
        self.backoff = (
            min(2 * self.backoff, MAX_RESTART_BACKOFF_SECONDS)
            if lived < MAX_RESTART_BACKOFF_SECONDS
            else RESTART_BACKOFF_SECONDS
        )
        self.cluster.stop()
        self.cluster.start()
        self.watch.reset(clock.now())
        self.restarts += 1
        return reason

    def _restart_reason(self) -> str:
        code = self.cluster.exit_code()
        if code is not None:
            return f"it exited with code {code}"
        try:
            stalled = self.watch.stalled(clock.now())
        except Exception as exc:  # a database or broker outage is no proof of a wedged cluster: look again next tick
            logger.warning("The supervisor could not probe the worker cluster: %s", exc)
            return ""
        finally:
            close_old_connections()
        if stalled:
            return f"no task finished for {self.watch.stall_seconds:g} s while its probe task waited"
        return ""


def supervisor_from_settings() -> Supervisor:
    """A supervisor with the intervals of the settings (HELPDESK_SWEEP_SECONDS, HELPDESK_WORKER_*_SECONDS)."""
    heartbeat = heartbeat_path()
    return Supervisor(
        cluster=ClusterProcess(stop_seconds=helpdesk_setting("WORKER_STOP_SECONDS"), heartbeat=heartbeat),
        sweeper=Sweeper(
            sweep_seconds=max(1, helpdesk_setting("SWEEP_SECONDS")),
            sla_sweep_seconds=max(1, helpdesk_setting("SLA_SWEEP_SECONDS")),
        ),
        watch=ProgressWatch(stall_seconds=helpdesk_setting("WORKER_STALL_SECONDS"), heartbeat=heartbeat),
    )

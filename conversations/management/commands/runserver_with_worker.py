"""`manage.py runserver_with_worker`: the web server and the supervised worker tier in one command, for `make run`.

The worker tier is `manage.py helpdesk_supervisor` (workflows/engine/supervisor.py: a django-q2 cluster it restarts when
it stalls or exits, plus a sweep of its own), started as a child in its own session, so Ctrl-C in the terminal
reaches only this command. On Ctrl-C or SIGTERM this command asks the supervisor to stop (SIGTERM: it stops the
cluster, SIGTERM to the main PID first because django-q2 hangs when its whole group gets it), waits,
then kills whatever is still alive in that session, so no worker is left behind even if the cluster was wedged.
The web server is Django's runserver without the autoreloader, serving static files itself so the admin and the
API docs look right with DEBUG off. The workers' output goes to `.run/qcluster.log` (git-ignored) so the terminal
shows the banner and the requests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand

from conversations.conf import helpdesk_setting, manage_py

SUPERVISOR_STOP_MARGIN_SECONDS = 5  # beyond the supervisor's own stop time (cluster, then its sweep thread)


class Command(BaseCommand):
    help = "Run the web server and the supervised django-q2 worker cluster together; Ctrl-C stops both."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
        parser.add_argument("--worker-log", default="", help="Worker output file (default .run/qcluster.log).")

    def handle(self, *args, host: str, port: int, **options) -> None:
        log_path = Path(options["worker_log"] or manage_py().parent / ".run" / "qcluster.log")
        worker = self._start_worker(log_path)
        # Installed explicitly: a shell that starts us in the background leaves SIGINT ignored, so Python would not.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _raise_keyboard_interrupt)
        self._print_banner(host, port, worker.pid, log_path)
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False, insecure_serving=True)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop_worker(worker)

    def _start_worker(self, log_path: Path) -> subprocess.Popen:
        """Start `helpdesk_supervisor`, logging to a file: one line per task would bury the server's output."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            # A new session keeps the terminal's Ctrl-C (sent to the foreground process group) away from the worker,
            # and holds every process of the tier, so stopping can find them all.
            return subprocess.Popen(
                [sys.executable, str(manage_py()), "helpdesk_supervisor"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _stop_worker(self, worker: subprocess.Popen) -> None:
        """SIGTERM to the supervisor, wait for it to stop its cluster, then SIGKILL anything left in its session."""
        if worker.poll() is None:
            self.stdout.write(f"Stopping the worker (pid {worker.pid})…")
            worker.send_signal(signal.SIGTERM)
            timeout = 2 * helpdesk_setting("WORKER_STOP_SECONDS") + SUPERVISOR_STOP_MARGIN_SECONDS
            try:
                worker.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The worker did not stop within {timeout} s; killing it.")
        leftovers = _kill_session(worker.pid)
        worker.wait()
        self.stdout.write(f"Stopped (killed {leftovers} leftover process(es))." if leftovers else "Stopped.")

    def _print_banner(self, host: str, port: int, worker_pid: int, log_path: Path) -> None:
        shown_host = f"[{host}]" if ":" in host else host
        base = f"http://{shown_host}:{port}"
        lines = [
            "",
            "=" * 64,
            f"  Helpdesk admin:  {base}/admin/",
            "  Log in as        admin / admin   (agents: alice/alice, manager: manager/manager)",
            f"  API docs:        {base}/api/docs/",
            f"  Worker:          supervised django-q2 qcluster, pid {worker_pid}, log {log_path}",
            "  Stop with Ctrl-C.",
            "=" * 64,
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))


def _raise_keyboard_interrupt(signum, frame) -> None:
    """Ctrl-C and SIGTERM end the server the same way, so the worker is stopped in `finally`."""
    raise KeyboardInterrupt


def _kill_session(session_id: int) -> int:
    """SIGKILL every live process of the session (found in /proc on Linux, else by its leader's process group)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return _kill(session_id, os.killpg)
    pids = []
    for stat_file in proc.glob("[0-9]*/stat"):
        try:
            state, _ppid, _pgrp, session = stat_file.read_text().rsplit(")", 1)[1].split()[:4]
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if int(session) == session_id and state != "Z":
            pids.append(int(stat_file.parent.name))
    return sum(_kill(pid, os.kill) for pid in pids)


def _kill(target: int, send) -> int:
    try:
        send(target, signal.SIGKILL)
    except ProcessLookupError:
        return 0
    return 1

"""`manage.py runserver_with_worker`: the web server and a django-q2 worker cluster in one command, for `make run`.

The worker (`manage.py qcluster`) runs as a child process in its own session, so Ctrl-C in the terminal reaches
only this command; on Ctrl-C or SIGTERM this command stops the worker with SIGTERM to its main PID (django-q2 hangs
when the whole process group gets the signal, see STACK.md) and exits. The web server is Django's runserver without
the autoreloader, serving static files itself so the admin and the API docs look right with DEBUG off. The
worker's output goes to `.run/qcluster.log` (git-ignored) so the terminal shows the banner and the requests.
"""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

WORKER_STOP_SECONDS = 15


class Command(BaseCommand):
    help = "Run the web server and the django-q2 worker (qcluster) together; Ctrl-C stops both."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
        parser.add_argument("--worker-log", default="", help="Worker output file (default .run/qcluster.log).")

    def handle(self, *args, host: str, port: int, **options) -> None:
        log_path = Path(options["worker_log"] or Path(settings.BASE_DIR) / ".run" / "qcluster.log")
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
        """Start `qcluster`, logging to a file: one line per task would bury the server's output and the banner."""
        manage_py = Path(settings.BASE_DIR) / "manage.py"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            # A new session keeps the terminal's Ctrl-C (sent to the foreground process group) away from the worker.
            return subprocess.Popen(
                [sys.executable, str(manage_py), "qcluster"], stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _stop_worker(self, worker: subprocess.Popen) -> None:
        """SIGTERM to the worker's main PID only, then wait; kill it only if it does not stop in time."""
        if worker.poll() is not None:
            return
        self.stdout.write(f"Stopping the worker (pid {worker.pid})…")
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.stderr.write(f"The worker did not stop within {WORKER_STOP_SECONDS} s; killing it.")
            worker.kill()
            worker.wait()
        self.stdout.write("Stopped.")

    def _print_banner(self, host: str, port: int, worker_pid: int, log_path: Path) -> None:
        shown_host = f"[{host}]" if ":" in host else host
        base = f"http://{shown_host}:{port}"
        lines = [
            "",
            "=" * 64,
            f"  Helpdesk admin:  {base}/admin/",
            "  Log in as        admin / admin   (agents: alice/alice, manager: manager/manager)",
            f"  API docs:        {base}/api/docs/",
            f"  Worker:          django-q2 qcluster, pid {worker_pid}, log {log_path}",
            "  Stop with Ctrl-C.",
            "=" * 64,
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))


def _raise_keyboard_interrupt(signum, frame) -> None:
    """Ctrl-C and SIGTERM end the server the same way, so the worker is stopped in `finally`."""
    raise KeyboardInterrupt

"""`manage.py helpdesk_supervisor`: the django-q2 worker cluster, supervised so that no dead process can stop the
automation (see workflows/engine/supervisor.py). Run it instead of `manage.py qcluster`; `make run` does."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from workflows.engine.supervisor import supervisor_from_settings


class Command(BaseCommand):
    help = (
        "Run the django-q2 cluster, sweep in this process, and restart the cluster when it exits or finishes "
        "no task for HELPDESK_WORKER_STALL_SECONDS; SIGTERM or Ctrl-C stops it with all its processes."
    )

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        supervisor = supervisor_from_settings()
        self.stdout.write(f"Supervising the worker cluster (stall threshold {supervisor.watch.stall_seconds:g} s).")
        supervisor.run(stop)
        self.stdout.write(f"Stopped the worker cluster ({supervisor.restarts} restart(s)).")

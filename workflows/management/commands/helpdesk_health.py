"""`manage.py helpdesk_health [--max-age SECONDS]`: a liveness check for systemd or Kubernetes. Exits 0 while the
oldest due work (undispatched event, due or orphaned run, scheduled event, SLA clock) is younger than the limit,
1 with the reason otherwise (see workflows/engine/health.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from conversations.conf import helpdesk_setting
from workflows.engine.health import check_health


class Command(BaseCommand):
    help = "Exit 1 when due work has waited longer than --max-age seconds (the workers are stuck), 0 otherwise."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--max-age",
            type=float,
            default=helpdesk_setting("HEALTH_MAX_AGE_SECONDS"),
            help="Seconds due work may wait (default HELPDESK_HEALTH_MAX_AGE_SECONDS, 120).",
        )

    def handle(self, *args, max_age: float, **options) -> None:
        if max_age <= 0:
            raise CommandError("--max-age must be a positive number of seconds.")
        verdict = check_health(max_age)
        if not verdict.healthy:
            self.stderr.write(verdict.message)
            raise SystemExit(1)
        self.stdout.write(verdict.message)

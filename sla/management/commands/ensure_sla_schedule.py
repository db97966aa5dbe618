"""`manage.py ensure_sla_schedule`: create or refresh the django-q2 Schedule of the SLA sweep (idempotent)."""

from django.core.management.base import BaseCommand

from conversations.conf import helpdesk_setting
from sla.tasks import SCHEDULE_NAME, ensure_sla_schedule, sweep_minutes


class Command(BaseCommand):
    help = "Create or refresh the django-q2 schedule that runs the SLA sweep (also done after every migrate)."

    def handle(self, *args, **options) -> None:
        changed = ensure_sla_schedule()
        minutes = sweep_minutes(helpdesk_setting("SLA_SWEEP_SECONDS"))
        verb = "Wrote" if changed else "Kept"
        self.stdout.write(f"{verb} schedule {SCHEDULE_NAME!r}: every {minutes} minute(s).")

"""App config of the channels room: writes the IMAP poll and delivery sweep schedules once django_q's tables exist."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inboxes"
    verbose_name = _("Channels")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from inboxes.outbound.schedules import ensure_schedules_after_migrate
        from inboxes.tasks import ensure_poll_schedule_after_migrate

        # The schedule rows must exist once django-q2's tables do (as the workflow sweep's).
        post_migrate.connect(ensure_schedules_after_migrate, sender=self)
        post_migrate.connect(ensure_poll_schedule_after_migrate, sender=self)

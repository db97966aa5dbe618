"""App config of the channels room: writes the IMAP poll schedule once django_q's tables exist."""
from django.apps import AppConfig


class InboxesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inboxes"
    verbose_name = "Channels"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from inboxes.tasks import ensure_poll_schedule_after_migrate

        post_migrate.connect(ensure_poll_schedule_after_migrate, sender=self)

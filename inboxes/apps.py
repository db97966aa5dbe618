"""App config of the channels room (inboxes: mail in, answers out)."""
from django.apps import AppConfig


class InboxesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inboxes"
    verbose_name = "Channels"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from inboxes.outbound.schedules import ensure_schedules_after_migrate

        # The delivery sweep's schedule row must exist once django-q2's tables do (as the workflow sweep's).
        post_migrate.connect(ensure_schedules_after_migrate, sender=self)

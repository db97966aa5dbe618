"""App config of the conversations domain."""
from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from conversations.roles import ensure_roles_after_migrate

        # post_migrate is the only hook Django gives to create the role groups once permissions exist.
        post_migrate.connect(ensure_roles_after_migrate, sender=self)

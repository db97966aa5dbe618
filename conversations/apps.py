"""App config of the conversations domain."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from conversations import setting_checks  # noqa: F401  (registers the HELPDESK_* system checks)
        from conversations.roles import ensure_roles_after_migrate
        from conversations.safe_regex import install_sqlite_regexp
        from conversations.sqlite_tuning import tune_sqlite_connection
        from conversations.statements import forget_compiled_statements

        # post_migrate is the only hook Django gives to create the role groups once permissions exist.
        post_migrate.connect(ensure_roles_after_migrate, sender=self)
        # ... and to drop the statements compiled from the models before a migration (conversations.statements).
        post_migrate.connect(forget_compiled_statements, dispatch_uid="conversations.statements.forget")
        # connection_created is Django's hook for per-connection SQL functions: REGEXP runs on RE2 (linear time).
        connection_created.connect(install_sqlite_regexp, dispatch_uid="conversations.safe_regex")
        # ... and for WAL, a busy timeout and IMMEDIATE transactions on a host project's plain SQLite settings.
        connection_created.connect(tune_sqlite_connection, dispatch_uid="conversations.sqlite_tuning")
        _connect_token_revocation()


def _connect_token_revocation() -> None:
    """A password change deletes the user's API tokens (conversations.tokens); only when DRF's authtoken is in use."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db.models.signals import pre_save

    from conversations.tokens import revoke_tokens_on_password_change

    if apps.is_installed("rest_framework.authtoken"):
        pre_save.connect(
            revoke_tokens_on_password_change,
            sender=get_user_model(),
            dispatch_uid="conversations.tokens.revoke_on_password_change",
        )

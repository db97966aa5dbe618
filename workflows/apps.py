"""App config of the workflow engine."""
from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from workflows import admin_integrations  # noqa: F401
        from workflows import admin_macros  # noqa: F401
        from workflows import admin_runs  # noqa: F401
        from workflows.integrations import install_log_masking
        from workflows.schedules import ensure_schedules_after_migrate

        install_log_masking()  # step crashes are logged with their traceback: mask secrets in it

        # post_migrate is Django's hook for rows that must exist once tables do (the sweep schedule).
        post_migrate.connect(ensure_schedules_after_migrate, sender=self)

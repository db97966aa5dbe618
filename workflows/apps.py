"""App config of the workflow engine."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"
    # The admin's section name: "Automation › Workflows" reads better than "Workflows › Workflows".
    verbose_name = _("Automation")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django_q.signals import post_execute, post_spawn

        from conversations.events import register_inline_consumer
        from conversations.services import register_field_usage
        from workflows import steps, triggers
        from workflows.engine.drain import dispatch_and_run
        from workflows.engine.field_usage import workflows_using_field
        from workflows.engine.heartbeat import beat_after_task, heartbeat_file
        from workflows.engine.schedules import ensure_schedules_after_migrate
        from workflows.engine.warmup import warm_worker
        from workflows.integrations.secrets import install_log_masking

        # The registries fill here, once every app is loaded (Django's seam), not as a side effect of an import.
        triggers.load_all()
        steps.load_all()
        install_log_masking()  # step crashes are logged with their traceback: mask secrets in it
        # A conversation field a workflow uses is not retyped or deleted under it (conversations cannot import us).
        register_field_usage(workflows_using_field)
        register_inline_consumer(dispatch_and_run)  # what `events_consumed_inline` runs (the demo's history)

        # post_migrate is Django's hook for rows that must exist once tables do (the sweep schedule).
        post_migrate.connect(ensure_schedules_after_migrate, sender=self)
        # Each new queue worker warms up before its first task (statements compiled, long-lived objects frozen).
        post_spawn.connect(warm_worker, dispatch_uid="helpdesk-worker-warm-up")
        if heartbeat_file() is not None:  # a cluster run by the supervisor: it watches this file, not saved results
            post_execute.connect(beat_after_task, dispatch_uid="helpdesk-worker-heartbeat")

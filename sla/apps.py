"""App config of the SLA app: registers the clock projector, the `sla_breached` filter and the sweep schedule."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sla"
    verbose_name = _("SLA")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from conversations.events import register_projector
        from sla.api.conversations import extend_conversations_api
        from sla.clocks import project_event
        from sla.tasks import ensure_sla_schedule_after_migrate

        # The projector runs inside every domain event's transaction, so clocks never disagree with the domain.
        register_projector(project_event)
        extend_conversations_api()
        # post_migrate is the only hook Django gives to write the Schedule row once django_q's tables exist.
        post_migrate.connect(ensure_sla_schedule_after_migrate, sender=self)

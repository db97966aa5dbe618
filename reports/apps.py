"""App config of the reports app (docs/reports.md): registers the projector that keeps `ConversationFacts`."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from conversations.events import register_projector
        from reports.projection import project_event

        # In every domain event's transaction, so the facts never disagree with the conversation.
        register_projector(project_event)

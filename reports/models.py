"""No tables of its own: one proxy of `Conversation` so the Reports page has an entry in the admin index and sidebar
(Django lists models, not pages), as the other analytics pages hang off their own models."""
from conversations.models import Conversation


class ConversationReport(Conversation):
    """The admin entry of the Reports page (its changelist is the page)."""

    class Meta:
        proxy = True
        verbose_name = "conversation report"
        verbose_name_plural = "conversation reports"

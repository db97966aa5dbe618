"""The reports room's tables: `ConversationFacts`, what the report needs about a conversation's resolutions, kept by
a projector (`reports.projection`) in the transaction of each status change, so a report over a million
conversations is a join and a GROUP BY rather than a search of every conversation's events; and the
`ConversationReport` proxy that gives the Reports page its entry in the admin index and sidebar.
"""
from django.conf import settings
from django.db import models

from conversations.models import Conversation


class ConversationFacts(models.Model):
    """A conversation's resolution history (a row exists once it was answered or resolved): first and last time it
    became `resolved`, whether it was set to an open status after the first, its assignee at the last resolution,
    and its first response and resolution in business minutes."""

    conversation = models.OneToOneField(Conversation, primary_key=True, on_delete=models.CASCADE,
                                        related_name="report_facts")
    first_resolved_at = models.DateTimeField(null=True, blank=True)
    last_resolved_at = models.DateTimeField(null=True, blank=True)
    reopened = models.BooleanField(default=False)
    resolved_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", help_text="The assignee at the last resolution.")
    # Business minutes (reports.business): on the calendar of the conversation's SLA policy when they happened.
    first_response_business_minutes = models.FloatField(null=True, blank=True)
    resolution_business_minutes = models.FloatField(null=True, blank=True,
                                                    help_text="From creation to the last resolution.")

    class Meta:
        verbose_name = "conversation report facts"
        verbose_name_plural = "conversation report facts"

    def __str__(self) -> str:
        return f"Report facts of conversation {self.conversation_id}"


class ConversationReport(Conversation):
    """The admin entry of the Reports page (its changelist is the page)."""

    class Meta:
        proxy = True
        verbose_name = "conversation report"
        verbose_name_plural = "conversation reports"

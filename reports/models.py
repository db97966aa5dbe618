"""The reports room's tables: `ConversationFacts`, what the report needs about a conversation's resolutions, kept by
a projector (`reports.projection`) in the transaction of each status change, so a report over a million
conversations is a join and a GROUP BY rather than a search of every conversation's events; and the
`ConversationReport` proxy that gives the Reports page its entry in the admin index and sidebar.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from conversations.models import Conversation


class ConversationFacts(models.Model):
    """A conversation's resolution history (a row exists once it was answered or resolved): first and last time it
    became `resolved`, whether it was set to an open status after the first, its assignee at the last resolution,
    and its first response and resolution in business minutes."""

    conversation = models.OneToOneField(
        Conversation,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="report_facts",
        verbose_name=_("conversation"),
    )
    first_resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("first resolved at"))
    last_resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last resolved at"))
    reopened = models.BooleanField(default=False, verbose_name=_("reopened"))
    resolved_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The assignee at the last resolution."),
        verbose_name=_("resolved assignee"),
    )
    # Business minutes (reports.business): on the calendar of the conversation's SLA policy when they happened.
    first_response_business_minutes = models.FloatField(
        null=True, blank=True, verbose_name=_("first response (business minutes)")
    )
    resolution_business_minutes = models.FloatField(
        null=True,
        blank=True,
        help_text=_("From creation to the last resolution."),
        verbose_name=_("resolution (business minutes)"),
    )

    class Meta:
        verbose_name = _("conversation report facts")
        verbose_name_plural = _("conversation report facts")

    def __str__(self) -> str:
        return _("Report facts of conversation %(number)s") % {"number": self.conversation_id}


class ConversationReport(Conversation):
    """The admin entry of the Reports page (its changelist is the page)."""

    class Meta:
        proxy = True
        verbose_name = _("conversation report")
        verbose_name_plural = _("conversation reports")

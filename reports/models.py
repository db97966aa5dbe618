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


# The report row's minute figures and group columns (reports.rows): each figure has a partial index per group column
# (and one over all rows, one per UTC creation day) ordered by its value, so a percentile is an index walk.
ROW_FIGURES = (
    ("first_response_minutes", "fr"),
    ("resolution_minutes", "rs"),
    ("first_response_business_minutes", "frb"),
    ("resolution_business_minutes", "rsb"),
)
# Counts kept per row by database triggers (migration reports.0005), summed by the report.
ROW_COUNTS = (
    "sla_targets",
    "sla_breached",
    "csat_answered",
    "csat_score_sum",
    "csat_satisfied",
    "csat_commented",
)
ROW_GROUPS = (("team", "team"), ("channel", "chan"), ("agent", "agent"), ("created_day", "day"))


def _row_indexes() -> list[models.Index]:
    indexes = [
        models.Index(
            fields=[group, figure, "created_at"],
            name=f"rr_{short}_{abbr}",
            condition=models.Q(**{f"{figure}__isnull": False}),
        )
        for group, short in ROW_GROUPS
        for figure, abbr in ROW_FIGURES
    ]
    indexes += [
        models.Index(
            fields=[figure, "created_at"], name=f"rr_all_{abbr}", condition=models.Q(**{f"{figure}__isnull": False})
        )
        for figure, abbr in ROW_FIGURES
    ]
    counted = [
        "created_at",
        "resolved",
        "reopened",
        *(figure for figure, _ in ROW_FIGURES),
        "sla_targets",
        "sla_breached",
    ]
    # With the CSAT counts as key columns (SQLite has no INCLUDE: without them every counted row was a table lookup,
    # 1.1 s of the agent report at 1,000,000 rows): the grouped counts and a local day's counts over a wide period
    # (reports.selectors._daily_counts_lateral, _daily_counts) read the index only.
    csat = [f"csat_{name}" for name in ("answered", "score_sum", "satisfied", "commented")]
    indexes += [models.Index(fields=[group, *counted, *csat], name=f"rr_{short}_n") for group, short in ROW_GROUPS[:3]]
    indexes.append(models.Index(fields=[*counted, *csat], name="rr_created_n"))
    # The rows with a CSAT comment by creation, with their conversation and group columns (PostgreSQL: INCLUDE, an
    # index-only scan), from which the report joins the comments (reports.selectors._comment_rows_by_report_row).
    indexes.append(
        models.Index(
            fields=["created_at"],
            name="rr_commented",
            condition=models.Q(csat_commented__gt=0),
            include=["conversation", "team", "channel", "agent"],
        )
    )
    return indexes


class ReportFigures(models.Model):
    """What a grouping reads of a conversation, shared by its report row and its tag rows (which copy it)."""

    resolved = models.BooleanField(default=False, verbose_name=_("resolved"))
    reopened = models.BooleanField(default=False, verbose_name=_("reopened"))
    first_response_minutes = models.FloatField(null=True, blank=True, verbose_name=_("first response (minutes)"))
    resolution_minutes = models.FloatField(null=True, blank=True, verbose_name=_("resolution (minutes)"))
    first_response_business_minutes = models.FloatField(
        null=True, blank=True, verbose_name=_("first response (business minutes)")
    )
    resolution_business_minutes = models.FloatField(
        null=True, blank=True, verbose_name=_("resolution (business minutes)")
    )

    # Counted by the projector at each refresh and kept by database triggers on sla_slatarget (migration
    # reports.0005), which see every change of a target, bulk updates of the SLA sweep included.
    sla_targets = models.PositiveIntegerField(default=0, verbose_name=_("SLA targets"))
    sla_breached = models.PositiveIntegerField(default=0, verbose_name=_("SLA targets breached"))
    # The same for its surveys (conversations_survey): answered, the sum of their scores, satisfied (4-5), commented.
    csat_answered = models.PositiveIntegerField(default=0, verbose_name=_("surveys answered"))
    csat_score_sum = models.PositiveIntegerField(default=0, verbose_name=_("sum of scores"))
    csat_satisfied = models.PositiveIntegerField(default=0, verbose_name=_("surveys satisfied"))
    csat_commented = models.PositiveIntegerField(default=0, verbose_name=_("surveys commented"))

    class Meta:
        abstract = True


class ReportRow(ReportFigures):
    """One conversation as the report reads it (docs/reports.md "Report rows"): its creation moment, group columns and
    figures as plain columns, recomputed by `reports.rows.row_refresh` in the transaction of every change that moves
    them, so a report reads one narrow table through covering indexes instead of joins and expressions per row."""

    conversation = models.OneToOneField(
        Conversation,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="report_row",
        verbose_name=_("conversation"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    created_day = models.DateField(help_text=_("The UTC date of creation."), verbose_name=_("created day"))
    team = models.ForeignKey(
        "conversations.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("team"),
    )
    channel = models.CharField(max_length=20, verbose_name=_("channel"))
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text=_("The assignee at the last resolution, else the current assignee."),
        verbose_name=_("agent"),
    )

    class Meta:
        verbose_name = _("conversation report row")
        verbose_name_plural = _("conversation report rows")
        indexes = _row_indexes()

    def __str__(self) -> str:
        return _("Report row of conversation %(number)s") % {"number": self.conversation_id}


# The columns a tag row copies from its conversation's report row (the tag grouping's figures and counts).
TAG_ROW_COLUMNS = (
    "created_at",
    "resolved",
    "reopened",
    *(figure for figure, _ in ROW_FIGURES),
    *ROW_COUNTS,
)


def _tag_row_indexes() -> list[models.Index]:
    indexes = [
        models.Index(
            fields=["tag", figure, "created_at"], name=f"rtr_{abbr}", condition=models.Q(**{f"{figure}__isnull": False})
        )
        for figure, abbr in ROW_FIGURES
    ]
    # Every column the grouped counts read, so they never touch the table (grouped by tag and `in_total`: the
    # counts of every tag and the total's in one pass, reports.selectors._tag_counts).
    indexes.append(models.Index(fields=["tag", "in_total", *TAG_ROW_COLUMNS], name="rtr_n"))
    # The tag rows with a CSAT comment by creation, with their tag (PostgreSQL: INCLUDE, an index-only scan), from
    # which the tag report joins the comments (reports.selectors._comment_rows_by_report_row).
    indexes.append(
        models.Index(
            fields=["created_at"],
            name="rtr_commented",
            condition=models.Q(csat_commented__gt=0),
            include=["conversation", "tag"],
        )
    )
    return indexes


class ReportTagRow(ReportFigures):
    """One (conversation, tag) pair as the tag grouping reads it (docs/reports.md "Tag rows"), and one row with no tag
    for a conversation without tags (the "No tag" group): a copy of the conversation's `ReportRow` figures with the
    tag id, so a tag's percentiles are index walks like the other groupings'. Kept by database triggers (migration
    reports.0006): on the report row (insert, update, delete: whatever the path that moves it, the projector's upsert
    or the SLA and survey triggers) and on the conversations' tag table (m2m add, remove, clear, tag deletion)."""

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("conversation"),
    )
    tag = models.ForeignKey(
        "conversations.Tag",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        help_text=_("Empty for a conversation without tags."),
        verbose_name=_("tag"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    # Kept by the same triggers (migration reports.0010): true on exactly one row of each conversation, that of its
    # smallest tag id (or its untagged row), so the total counts each conversation once from the tag rows.
    in_total = models.BooleanField(
        default=True,
        help_text=_("The conversation's row counted in the total: that of its smallest tag id, or its untagged row."),
        verbose_name=_("counted in the total"),
    )

    class Meta:
        verbose_name = _("conversation tag report row")
        verbose_name_plural = _("conversation tag report rows")
        constraints = [models.UniqueConstraint(fields=["conversation", "tag"], name="rtr_conversation_tag")]
        indexes = _tag_row_indexes()

    def __str__(self) -> str:
        return _("Tag report row of conversation %(number)s") % {"number": self.conversation_id}


class ConversationReport(Conversation):
    """The admin entry of the Reports page (its changelist is the page)."""

    class Meta:
        proxy = True
        verbose_name = _("conversation report")
        verbose_name_plural = _("conversation reports")
